"""`flask keys ...`: asymmetric token-signing keys and their rotation (see docs/keys.md)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import wraps
from typing import Any

import click
from flask.cli import AppGroup

from myapi.cli.database import refuse_on_the_fallback_database, writes_database
from myapi.security.key_material import ALGORITHMS, KeyEncryptionError
from myapi.services.signing_keys import (
    KeyLifecycleError,
    generate_key,
    list_keys,
    reencrypt_keys,
    retire_key,
    rotate_keys,
)

keys = AppGroup("keys", help="Manage token-signing keys (TOKEN_SIGNING=keys).")


def _refusals_as_errors(command: Callable[..., None]) -> Callable[..., None]:
    """A refused lifecycle step or a bad encryption key is a one-line error, not a traceback."""

    @wraps(command)
    def run(*args: Any, **kwargs: Any) -> None:
        try:
            command(*args, **kwargs)
        except (KeyEncryptionError, KeyLifecycleError) as error:
            raise click.ClickException(str(error)) from None

    return run


def _when(moment: datetime | None) -> str:
    return moment.isoformat(timespec="seconds") if moment else "-"


@keys.command("generate")
@click.option(
    "--algorithm",
    type=click.Choice(ALGORITHMS),
    help="Default: SIGNING_KEY_ALGORITHM.",
)
@_refusals_as_errors
@writes_database
def generate_command(algorithm: str | None) -> None:
    """Create a key: published as `next`, or `current` at once if there is none."""
    refuse_on_the_fallback_database("a signing key")
    key = generate_key(algorithm)
    click.echo(f"generated {key.algorithm} key {key.kid} ({key.state})")
    if key.state == "next":
        click.echo(
            "it is published now; run `flask keys rotate` once verifiers' caches have it "
            "(a second here; their JWKS cache lifetime elsewhere)"
        )


@keys.command("rotate")
@_refusals_as_errors
@writes_database
def rotate_command() -> None:
    """Make the `next` key current; the old current key keeps verifying its tokens."""
    refuse_on_the_fallback_database("a signing key")
    rotation = rotate_keys()
    if rotation.generated:
        click.echo(
            "warning: no next key was waiting, so one was generated and used at once; "
            "verifiers that cached the key set will refetch it on the new kid. "
            "Generate the next key ahead of time to avoid that.",
            err=True,
        )
    click.echo(f"current key: {rotation.current.kid} ({rotation.current.algorithm})")
    if rotation.previous is not None:
        click.echo(
            f"previous key: {rotation.previous.kid}, published until "
            f"{_when(rotation.previous.publish_until)}"
        )


# A kid is base64url and may start with "-": unknown options are taken as the argument.
@keys.command("retire", context_settings={"ignore_unknown_options": True})
@click.argument("kid")
@click.option(
    "--force",
    is_flag=True,
    help="Retire a previous key before publish_until: its live tokens stop working.",
)
@_refusals_as_errors
@writes_database
def retire_command(kid: str, force: bool) -> None:
    """Withdraw a previous key once its tokens have expired, or cancel a next key."""
    key = retire_key(kid, force=force)
    click.echo(f"retired key {key.kid}; it is no longer published and its private part is erased")


@keys.command("list")
def list_command() -> None:
    """List every key with its state and dates."""
    click.echo(
        f"{'KID':<43}  {'ALG':<5}  {'STATE':<8}  {'CREATED':<25}  {'ACTIVATED':<25}  PUBLISH UNTIL"
    )
    for key in list_keys():
        click.echo(
            f"{key.kid:<43}  {key.algorithm:<5}  {key.state:<8}  {_when(key.created_at):<25}  "
            f"{_when(key.activated_at):<25}  {_when(key.publish_until)}"
        )


@keys.command("reencrypt")
@_refusals_as_errors
@writes_database
def reencrypt_command() -> None:
    """Re-encrypt every private key with the first SIGNING_KEY_ENCRYPTION_KEYS entry."""
    count = reencrypt_keys()
    click.echo(f"re-encrypted {count} private key(s) with the first encryption key")
