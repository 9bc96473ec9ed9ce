"""A client's token is only what this service issues: its exact shape, or a 401 (never a 500)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.helpers.http import bearer
from tests.helpers.logs import LogLines
from tests.helpers.oauth import Credentials
from tests.policy.helpers import assert_each_invalid_token, claims_of, hs256_raw

TOKEN_INFO = "/auth/token-info"


@pytest.fixture
def client_claims(reader: Credentials, client_token: Callable[..., str]) -> dict[str, Any]:
    return claims_of(client_token(reader))


@pytest.fixture
def resign(app: Flask, client_claims: dict[str, Any]) -> Callable[..., str]:
    """The client's own claims with the given changes, validly signed with the service key."""

    def make(**changes: Any) -> str:
        claims = client_claims | changes
        return hs256_raw(
            {"alg": "HS256", "typ": "JWT"}, claims, app.config["JWT_SECRET_KEY"].encode()
        )

    return make


def test_the_client_token_re_signed_unchanged_is_accepted(
    client: FlaskClient, resign: Callable[..., str]
) -> None:
    assert client.get(TOKEN_INFO, headers=bearer(resign())).status_code == 200


def test_a_client_token_whose_subject_is_not_its_client_is_refused(
    client: FlaskClient, resign: Callable[..., str], make_client: Callable[..., Credentials]
) -> None:
    other = make_client("notes:read").client_id

    assert_each_invalid_token(
        {
            "sub another client": client.get(TOKEN_INFO, headers=bearer(resign(sub=other))),
            "sub a user id": client.get(TOKEN_INFO, headers=bearer(resign(sub="1"))),
        }
    )


@pytest.mark.parametrize(
    "client_id",
    [
        7,
        None,
        True,
        ["client_0123456789abcdef01234567"],
        {"id": 1},
        "",
        "client_x",
        "client_" + "0" * 25,
    ],
)
def test_a_malformed_client_id_is_a_401_not_a_500(
    client: FlaskClient, resign: Callable[..., str], client_id: Any
) -> None:
    assert_each_invalid_token(
        {
            "sub unchanged": client.get(TOKEN_INFO, headers=bearer(resign(client_id=client_id))),
            "sub alike": client.get(
                TOKEN_INFO, headers=bearer(resign(client_id=client_id, sub=client_id))
            ),
        }
    )


def test_the_log_tells_a_malformed_client_id_from_a_client_that_is_gone(
    client: FlaskClient, resign: Callable[..., str], logs: LogLines
) -> None:
    # The holder's state is looked up only for a client id of the shape this service issues.
    gone = "client_" + "0" * 24
    malformed = ["client_x", "client_" + "0" * 25, "Client_" + "0" * 24]

    for client_id in [*malformed, gone]:
        client.get(TOKEN_INFO, headers=bearer(resign(client_id=client_id, sub=client_id)))

    assert [event["reason"] for event in logs.events("token_rejected")] == [
        "bad_claims",
        "bad_claims",
        "bad_claims",
        "revoked",
    ]


def test_a_client_token_one_second_longer_than_its_lifetime_is_refused(
    app: Flask, client: FlaskClient, resign: Callable[..., str], client_claims: dict[str, Any]
) -> None:
    # Lifetimes unlike a user's access token's, so a client token is held to its own.
    app.config["CLIENT_TOKEN_MINUTES"] = 5
    app.config["ACCESS_TOKEN_MINUTES"] = 60
    lifetime = 5 * 60
    iat = client_claims["iat"]

    exact = client.get(TOKEN_INFO, headers=bearer(resign(exp=iat + lifetime)))
    longer = client.get(TOKEN_INFO, headers=bearer(resign(exp=iat + lifetime + 1)))

    assert exact.status_code == 200
    assert_each_invalid_token({"one second longer": longer})


def test_degenerate_times_are_refused(
    client: FlaskClient, resign: Callable[..., str], client_claims: dict[str, Any]
) -> None:
    iat = client_claims["iat"]

    assert_each_invalid_token(
        {
            "exp == iat": client.get(TOKEN_INFO, headers=bearer(resign(exp=iat))),
            "nbf true": client.get(TOKEN_INFO, headers=bearer(resign(nbf=True))),
            "iat true": client.get(TOKEN_INFO, headers=bearer(resign(iat=True))),
        }
    )
