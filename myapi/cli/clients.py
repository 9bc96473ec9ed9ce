"""`flask clients ...`: OAuth clients for other services, through `myapi.services.clients`."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from myapi.cli.database import refuse_on_the_fallback_database, writes_database
from myapi.models import OAuthClient
from myapi.security.scopes import CLIENT_SCOPES
from myapi.services.clients import (
    ClientRuleError,
    create_client,
    delete_client,
    find_client,
    list_clients,
    rotate_secret,
    set_client_active,
    set_client_scope,
)

clients = AppGroup("clients", help="Manage OAuth clients (client credentials grant).")

scope_option = click.option(
    "--scope",
    required=True,
    help=f"Space-separated scopes the client may ask for, of: {' '.join(CLIENT_SCOPES)}.",
)


def _client(client_id: str) -> OAuthClient:
    client = find_client(client_id)
    if client is None:
        raise click.ClickException(f"no client {client_id!r}")
    return client


def _show_secret(client_id: str, secret: str) -> None:
    """The only time the secret is ever shown: only its hash is stored."""
    click.echo(f"client_id:     {client_id}")
    click.echo(f"client_secret: {secret}")
    click.echo("Store the secret now: it is not shown again.", err=True)


@clients.command("create")
@click.argument("name")
@scope_option
@click.option("--audience", help="The `aud` of the client's tokens (default: JWT_AUDIENCE).")
@writes_database
def create_command(name: str, scope: str, audience: str | None) -> None:
    """Register a client and print its id and secret (once)."""
    refuse_on_the_fallback_database("an OAuth client")
    try:
        client, secret = create_client(name, scope, audience)
    except ClientRuleError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"created client {client.name!r} with scope {client.scope!r}")
    _show_secret(client.client_id, secret)


@clients.command("list")
def list_command() -> None:
    """List every client (never a secret)."""
    click.echo(f"{'CLIENT_ID':<31}  {'ACTIVE':<6}  {'NAME':<24}  {'AUDIENCE':<16}  SCOPE")
    for client in list_clients():
        active = "yes" if client.is_active else "no"
        click.echo(
            f"{client.client_id:<31}  {active:<6}  {client.name:<24}  "
            f"{client.audience:<16}  {client.scope}"
        )


@clients.command("rotate-secret")
@click.argument("client_id")
@writes_database
def rotate_secret_command(client_id: str) -> None:
    """Issue a new secret; the old one and every token of the client stop working at once."""
    refuse_on_the_fallback_database("a client secret")
    client = _client(client_id)
    secret = rotate_secret(client)
    click.echo(f"new secret for {client.name!r}; its tokens are revoked")
    _show_secret(client.client_id, secret)


@clients.command("set-scope")
@click.argument("client_id")
@scope_option
@writes_database
def set_scope_command(client_id: str, scope: str) -> None:
    """Change what the client may ask for; a removed scope stops working at once."""
    client = _client(client_id)
    try:
        set_client_scope(client, scope)
    except ClientRuleError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"{client.client_id} may now hold {client.scope!r}")


@clients.command("disable")
@click.argument("client_id")
@writes_database
def disable_command(client_id: str) -> None:
    """Refuse the client's credentials and revoke all its tokens."""
    client = _client(client_id)
    set_client_active(client, False)
    click.echo(f"{client.client_id} disabled; its tokens are revoked")


@clients.command("enable")
@click.argument("client_id")
@writes_database
def enable_command(client_id: str) -> None:
    """Accept a disabled client's credentials again (its old tokens stay revoked)."""
    client = _client(client_id)
    set_client_active(client, True)
    click.echo(f"{client.client_id} enabled")


@clients.command("delete")
@click.argument("client_id")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@writes_database
def delete_command(client_id: str, yes: bool) -> None:
    """Delete the client; its tokens stop working at once."""
    client = _client(client_id)
    if not yes:
        click.confirm(f"Delete client {client.name!r} ({client.client_id})?", abort=True)
    delete_client(client)
    click.echo(f"{client_id} deleted")
