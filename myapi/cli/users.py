"""`flask users ...` and `flask tokens ...`: the same rules as the API, through `myapi.services`."""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

from myapi.auth.schemas import RegisterSchema
from myapi.cli.database import refuse_on_the_fallback_database, writes_database
from myapi.models import User
from myapi.security.passwords import password_problems
from myapi.security.scopes import ROLES
from myapi.services import accounts, delegation, outbox, verification
from myapi.services.sessions import prune_expired

users = AppGroup("users", help="Manage user accounts.")
tokens = AppGroup("tokens", help="Maintain the token revocation store.")


def _user(identifier: str) -> User:
    user = accounts.find_user(identifier)
    if user is None:
        raise click.ClickException(f"no user {identifier!r}")
    return user


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    problems = password_problems(password)
    if problems:
        raise click.ClickException("password: " + " ".join(problems))
    return password


password_stdin = click.option(
    "--password-stdin", is_flag=True, help="Read the password from the first line of stdin."
)


@users.command("create")
@click.argument("username")
@click.option("--email", required=True)
@click.option("--role", type=click.Choice(ROLES), default="user", show_default=True)
@password_stdin
@writes_database
def create_command(username: str, email: str, role: str, password_stdin: bool) -> None:
    """Create an account (the password is prompted for twice, without echo)."""
    errors = RegisterSchema(only=("username", "email")).validate(
        {"username": username, "email": email}
    )
    if errors:
        details = "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in errors.items())
        raise click.ClickException(details)
    if role == "admin":
        refuse_on_the_fallback_database("an admin")
    password = _read_password(password_stdin)
    try:
        user = accounts.register(username, email, password, role=role)
    except accounts.AccountConflict:
        raise click.ClickException("that username or email is already taken") from None
    click.echo(f"created user {user.username} (id {user.id}, role {user.role})")


@users.command("list")
def list_command() -> None:
    """List every account."""
    rows = accounts.list_users()
    click.echo(f"{'ID':>5}  {'USERNAME':<32}  {'ROLE':<5}  {'ACTIVE':<6}  EMAIL")
    for user in rows:
        active = "yes" if user.is_active else "no"
        click.echo(f"{user.id:>5}  {user.username:<32}  {user.role:<5}  {active:<6}  {user.email}")


@users.command("show")
@click.argument("username")
def show_command(username: str) -> None:
    """Show one account and how many live sessions it has."""
    user = _user(username)
    sessions = accounts.live_session_count(user)
    for label, value in (
        ("id", user.id),
        ("username", user.username),
        ("email", user.email),
        ("role", user.role),
        ("active", "yes" if user.is_active else "no"),
        ("verified", "yes" if user.email_verified else "no"),
        ("created", user.created_at.isoformat(timespec="seconds")),
        ("sessions", sessions),
    ):
        click.echo(f"{label + ':':<10} {value}")


@users.command("set-password")
@click.argument("username")
@password_stdin
@writes_database
def set_password_command(username: str, password_stdin: bool) -> None:
    """Set a new password; every session of the account is revoked."""
    user = _user(username)
    revoked = accounts.set_password(user, _read_password(password_stdin))
    click.echo(f"password changed for {user.username}; {revoked} session(s) revoked")


@users.command("verify-email")
@click.argument("username")
@writes_database
def verify_email_command(username: str) -> None:
    """Mark the account's email address as verified (you vouch that it is the owner's)."""
    user = _user(username)
    verification.mark_verified(user)
    click.echo(f"email address {user.email} of {user.username} is verified")


@users.command("set-role")
@click.argument("username")
@click.argument("role", type=click.Choice(ROLES))
@writes_database
def set_role_command(username: str, role: str) -> None:
    """Change the role; scopes follow on the next request."""
    if role == "admin":
        refuse_on_the_fallback_database("an admin")
    user = _user(username)
    accounts.set_role(user, role)
    click.echo(f"{user.username} is now {role}")


@users.command("disable")
@click.argument("username")
@writes_database
def disable_command(username: str) -> None:
    """Disable the account and revoke all its tokens."""
    user = _user(username)
    accounts.set_active(user, False)
    click.echo(f"{user.username} disabled")


@users.command("enable")
@click.argument("username")
@writes_database
def enable_command(username: str) -> None:
    """Enable a disabled account (its old tokens stay revoked)."""
    user = _user(username)
    accounts.set_active(user, True)
    click.echo(f"{user.username} enabled")


@users.command("delete")
@click.argument("username")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@writes_database
def delete_command(username: str, yes: bool) -> None:
    """Delete the account with its notes and sessions."""
    user = _user(username)
    if not yes:
        click.confirm(f"Delete {user.username} and all their data?", abort=True)
    name = user.username
    accounts.delete_user(user)
    click.echo(f"{name} deleted")


@users.command("revoke-sessions")
@click.argument("username")
@writes_database
def revoke_sessions_command(username: str) -> None:
    """Revoke every session and personal access token (and so every token) of the account."""
    user = _user(username)
    revoked = accounts.revoke_all_sessions(user, event="sessions_revoked_by_admin")
    click.echo(f"{revoked} session(s) and every personal access token of {user.username} revoked")


@tokens.command("prune")
@writes_database
def prune_command() -> None:
    """Delete revocation rows for tokens that have expired anyway, dead personal tokens, old
    authorization codes, expired sign-ins at the authorization pages, expired email links
    and emails sent or given up more than a week ago."""
    sessions, denied, personal = prune_expired()
    codes, sign_ins = delegation.prune_expired()
    links, messages = outbox.prune()
    click.echo(
        f"pruned {sessions} expired session(s), {denied} expired revoked token(s)"
        f" and {personal} expired or revoked personal access token(s);"
        f" {codes} authorization code(s) and {sign_ins} sign-in(s)"
    )
    click.echo(f"pruned {links} expired email link(s) and {messages} finished email(s)")
