"""`flask keys`: generate, rotate, retire, list, reencrypt, and private keys encrypted at rest."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from click.testing import Result
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from flask import Flask

from myapi.clock import utcnow
from myapi.extensions import db
from myapi.security.key_ring import KEY_STATE_CHECK_SECONDS
from myapi.services.signing_keys import longest_token_lifetime
from tests.keys.helpers import ENCRYPTION_KEY
from tests.keys.observe import key_in, key_rows


def test_generate_pre_publishes_a_next_key_beside_the_current_one(
    keys_cli: Callable[..., Result],
) -> None:
    result = keys_cli("generate", "--algorithm", "EdDSA")

    assert result.exit_code == 0, result.output
    upcoming = key_in("next")
    assert (upcoming.algorithm, upcoming.activated_at) == ("EdDSA", None)
    assert upcoming.kid in result.output
    assert key_in("current").algorithm == "ES256"


def test_generate_refuses_a_second_next_key(keys_cli: Callable[..., Result]) -> None:
    keys_cli("generate")

    result = keys_cli("generate")

    assert result.exit_code == 1
    assert "a next key already exists" in result.output


def test_rotate_promotes_next_and_keeps_the_old_key_until_its_tokens_expire(
    keys_cli: Callable[..., Result],
) -> None:
    old = key_in("current").kid
    keys_cli("generate")
    upcoming = key_in("next").kid
    before = utcnow()

    result = keys_cli("rotate")

    assert result.exit_code == 0, result.output
    assert key_in("current").kid == upcoming
    previous = key_in("previous")
    assert previous.kid == old
    assert before + longest_token_lifetime() <= previous.publish_until
    assert previous.publish_until <= utcnow() + longest_token_lifetime()


def test_the_longest_token_lifetime_covers_refresh_tokens_leeway_and_the_state_check(
    app: Flask,
) -> None:
    config = app.config

    expected = timedelta(
        days=config["REFRESH_TOKEN_DAYS"],
        seconds=config["JWT_LEEWAY_SECONDS"] + KEY_STATE_CHECK_SECONDS,
    )

    assert longest_token_lifetime() == expected


def test_rotate_without_a_next_key_makes_one_and_warns(keys_cli: Callable[..., Result]) -> None:
    old = key_in("current").kid

    result = keys_cli("rotate")

    assert result.exit_code == 0
    assert "warning: no next key was waiting" in result.output
    assert key_in("previous").kid == old
    assert key_in("current").kid != old


def test_retire_refuses_the_current_key(keys_cli: Callable[..., Result]) -> None:
    result = keys_cli("retire", key_in("current").kid)

    assert result.exit_code == 1
    assert "the current key cannot be retired" in result.output
    assert key_in("current")


def test_retire_refuses_a_previous_key_with_live_tokens_unless_forced(
    keys_cli: Callable[..., Result],
) -> None:
    keys_cli("rotate")
    previous = key_in("previous").kid

    refused = keys_cli("retire", previous)
    forced = keys_cli("retire", previous, "--force")

    assert refused.exit_code == 1
    assert "--force ends them now" in refused.output
    assert forced.exit_code == 0, forced.output
    retired = key_in("retired")
    assert (retired.kid, retired.encrypted_private_key) == (previous, "")


def test_retire_withdraws_a_previous_key_once_its_tokens_have_expired(
    keys_cli: Callable[..., Result],
) -> None:
    keys_cli("rotate")
    previous = key_in("previous")
    previous.publish_until = utcnow() - timedelta(seconds=1)
    db.session.commit()

    result = keys_cli("retire", previous.kid)

    assert result.exit_code == 0, result.output
    assert key_in("retired").kid == previous.kid


def test_retiring_the_next_key_cancels_it(keys_cli: Callable[..., Result]) -> None:
    keys_cli("generate")
    upcoming = key_in("next").kid

    result = keys_cli("retire", upcoming)

    assert result.exit_code == 0
    assert key_in("retired").kid == upcoming
    assert keys_cli("generate").exit_code == 0


def test_retire_takes_a_kid_that_starts_with_a_dash(keys_cli: Callable[..., Result]) -> None:
    keys_cli("generate")
    upcoming = key_in("next")
    upcoming.kid = "-" + upcoming.kid[1:]  # a thumbprint starts with "-" once in 64
    db.session.commit()

    result = keys_cli("retire", upcoming.kid)

    assert result.exit_code == 0, result.output
    assert key_in("retired").kid == upcoming.kid


def test_retire_names_an_unknown_kid(keys_cli: Callable[..., Result]) -> None:
    result = keys_cli("retire", "no-such-key")

    assert result.exit_code == 1
    assert "no signing key 'no-such-key'" in result.output


def test_list_shows_every_key_with_state_and_dates(keys_cli: Callable[..., Result]) -> None:
    keys_cli("rotate")
    keys_cli("generate", "--algorithm", "EdDSA")

    lines = keys_cli("list").output.splitlines()

    assert lines[0].split() == [
        *("KID", "ALG", "STATE", "CREATED", "ACTIVATED", "PUBLISH", "UNTIL"),
    ]
    rows = {line.split()[0]: line.split()[1:] for line in lines[1:]}
    assert {row.kid for row in key_rows()} == set(rows)
    assert [rows[key_in(state).kid][1] for state in ("previous", "current", "next")] == [
        "previous",
        "current",
        "next",
    ]
    assert rows[key_in("next").kid][0] == "EdDSA"
    assert rows[key_in("next").kid][3:] == ["-", "-"]


@pytest.mark.usefixtures("app")
def test_private_keys_are_stored_encrypted_with_the_configured_key() -> None:
    stored = key_in("current").encrypted_private_key

    assert "PRIVATE KEY" not in stored
    with pytest.raises(InvalidToken):
        Fernet(Fernet.generate_key()).decrypt(stored.encode())
    pem = Fernet(ENCRYPTION_KEY).decrypt(stored.encode())
    assert load_pem_private_key(pem, password=None).key_size == 256


def test_reencrypt_moves_every_private_key_to_the_first_encryption_key(
    app: Flask, keys_cli: Callable[..., Result]
) -> None:
    keys_cli("generate")
    new_key = Fernet.generate_key().decode()
    app.config["SIGNING_KEY_ENCRYPTION_KEYS"] = [new_key, ENCRYPTION_KEY]

    result = keys_cli("reencrypt")

    assert result.exit_code == 0, result.output
    assert "re-encrypted 2 private key(s)" in result.output
    for row in key_rows():
        Fernet(new_key).decrypt(row.encrypted_private_key.encode())
        with pytest.raises(InvalidToken):
            Fernet(ENCRYPTION_KEY).decrypt(row.encrypted_private_key.encode())


def test_reencrypt_without_the_old_encryption_key_changes_nothing(
    app: Flask, keys_cli: Callable[..., Result]
) -> None:
    before = key_in("current").encrypted_private_key
    app.config["SIGNING_KEY_ENCRYPTION_KEYS"] = [Fernet.generate_key().decode()]

    result = keys_cli("reencrypt")

    assert result.exit_code == 1
    assert "no key in SIGNING_KEY_ENCRYPTION_KEYS decrypts key" in result.output
    assert key_in("current").encrypted_private_key == before


@pytest.mark.parametrize(
    ("configured", "message"),
    [
        ([], "SIGNING_KEY_ENCRYPTION_KEYS is not set"),
        ([ENCRYPTION_KEY, "not-a-fernet-key"], "entry 2 is not a Fernet key"),
    ],
)
def test_commands_explain_a_missing_or_invalid_encryption_key(
    app: Flask, keys_cli: Callable[..., Result], configured: list[str], message: str
) -> None:
    app.config["SIGNING_KEY_ENCRYPTION_KEYS"] = configured

    result = keys_cli("generate")

    assert result.exit_code == 1
    assert message in result.output
    assert "not-a-fernet-key" not in result.output
