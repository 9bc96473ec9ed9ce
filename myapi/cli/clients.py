"""`flask clients ...`: OAuth clients (services and third-party apps), through
`myapi.services.clients`."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from myapi.cli.database import refuse_on_the_fallback_database, writes_database
from myapi.models import OAuthClient
from myapi.security.scopes import CLIENT_SCOPES, DELEGATED_SCOPES
from myapi.services.clients import (
    AUTHORIZATION_CODE,
    CLIENT_CREDENTIALS,
    CLIENT_TYPES,
    CONFIDENTIAL,
    GRANTS,
    PUBLIC,
    ClientRuleError,
    create_client,
    delete_client,
    find_client,
    list_clients,
    redirect_uris_of,
    rotate_secret,
    set_client_active,
    set_client_scope,
    set_redirect_uris,
)

clients = AppGroup("clients", help="Manage OAuth clients: services and third-party apps.")

scope_option = click.option(
    "--scope",
    required=True,
    help="Space-separated scopes the client may ask for: with client_credentials of "
    f"{' '.join(CLIENT_SCOPES)}; with authorization_code of {' '.join(DELEGATED_SCOPES)}.",
)
redirect_uri_option = click.option(
    "--redirect-uri",
    "redirect_uris",
    multiple=True,
    help="A redirect URI of an app (repeat for more): https, or http://127.0.0.1 or "
    "http://[::1] on any port; no fragment, no wildcard.",
)


def _client(client_id: str) -> OAuthClient:
    client = find_client(client_id)
    if client is None:
        raise click.ClickException(f"no client {client_id!r}")
    return client


def _show_secret(client_id: str, secret: str | None) -> None:
    """The only time the secret is ever shown: only its hash is stored."""
    click.echo(f"client_id:     {client_id}")
    if secret is None:
        click.echo("A public client has no secret: it proves itself with PKCE.")
        return
    click.echo(f"client_secret: {secret}")
    click.echo("Store the secret now: it is not shown again.", err=True)


def _default_grants(client_type: str, redirect_uris: tuple[str, ...]) -> tuple[str, ...]:
    """Without --grant: an app (public, or with redirect URIs) uses the code grant, else a
    service uses client credentials, as every client did before there were apps."""
    if client_type == PUBLIC or redirect_uris:
        return (AUTHORIZATION_CODE,)
    return (CLIENT_CREDENTIALS,)


@clients.command("create")
@click.argument("name")
@scope_option
@click.option("--audience", help="The `aud` of the client's tokens (default: JWT_AUDIENCE).")
@click.option(
    "--type",
    "client_type",
    type=click.Choice(CLIENT_TYPES),
    default=CONFIDENTIAL,
    show_default=True,
    help="confidential: has a secret; public: a native or browser app, no secret.",
)
@redirect_uri_option
@click.option(
    "--grant",
    "grants",
    type=click.Choice(GRANTS),
    multiple=True,
    help="A grant the client uses (repeat for both); default: authorization_code for a "
    "public client or one with redirect URIs, else client_credentials.",
)
@writes_database
def create_command(
    name: str,
    scope: str,
    audience: str | None,
    client_type: str,
    redirect_uris: tuple[str, ...],
    grants: tuple[str, ...],
) -> None:
    """Register a client and print its id and secret (once)."""
    refuse_on_the_fallback_database("an OAuth client")
    try:
        client, secret = create_client(
            name,
            scope,
            audience,
            client_type=client_type,
            grants=grants or _default_grants(client_type, redirect_uris),
            redirect_uris=redirect_uris,
        )
    except ClientRuleError as error:
        raise click.ClickException(str(error)) from None
    click.echo(
        f"created {client.client_type} client {client.name!r} with scope {client.scope!r}, "
        f"grants {client.grant_types!r}"
    )
    _show_secret(client.client_id, secret)


@clients.command("list")
def list_command() -> None:
    """List every client (never a secret)."""
    click.echo(
        f"{'CLIENT_ID':<31}  {'ACTIVE':<6}  {'TYPE':<12}  {'NAME':<24}  {'AUDIENCE':<16}  "
        f"{'GRANTS':<37}  SCOPE  REDIRECT_URIS"
    )
    for client in list_clients():
        active = "yes" if client.is_active else "no"
        click.echo(
            f"{client.client_id:<31}  {active:<6}  {client.client_type:<12}  {client.name:<24}  "
            f"{client.audience:<16}  {client.grant_types:<37}  {client.scope}  "
            f"{' '.join(redirect_uris_of(client))}"
        )


@clients.command("show")
@click.argument("client_id")
def show_command(client_id: str) -> None:
    """Show one client (never a secret)."""
    client = _client(client_id)
    click.echo(f"client_id:     {client.client_id}")
    click.echo(f"name:          {client.name}")
    click.echo(f"type:          {client.client_type}")
    click.echo(f"active:        {'yes' if client.is_active else 'no'}")
    click.echo(f"grants:        {client.grant_types}")
    click.echo(f"scope:         {client.scope}")
    click.echo(f"audience:      {client.audience}")
    for uri in redirect_uris_of(client):
        click.echo(f"redirect_uri:  {uri}")


@clients.command("set-redirect-uris")
@click.argument("client_id")
@click.argument("uris", nargs=-1, required=True)
@writes_database
def set_redirect_uris_command(client_id: str, uris: tuple[str, ...]) -> None:
    """Replace an app's redirect URIs with URIS; a removed one never redirects again."""
    client = _client(client_id)
    try:
        set_redirect_uris(client, uris)
    except ClientRuleError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"{client.client_id} redirects to: {' '.join(redirect_uris_of(client))}")


@clients.command("rotate-secret")
@click.argument("client_id")
@writes_database
def rotate_secret_command(client_id: str) -> None:
    """Issue a new secret; the old one and every token of the client stop working at once."""
    refuse_on_the_fallback_database("a client secret")
    client = _client(client_id)
    try:
        secret = rotate_secret(client)
    except ClientRuleError as error:
        raise click.ClickException(str(error)) from None
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
