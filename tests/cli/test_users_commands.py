"""`flask users ...`: account administration from the shell, under the API's own rules."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from click.testing import Result
from flask.testing import FlaskClient

from myapi.extensions import db
from myapi.models import AuthSession, Note, User
from tests.cli.helpers import GOOD_PASSWORD, stored_user
from tests.helpers.http import PASSWORD, assert_problem, bearer, refresh

Cli = Callable[..., Result]
Login = Callable[..., dict[str, Any]]


def login_status(client: FlaskClient, username: str, password: str) -> int:
    response = client.post("/auth/login", json={"username": username, "password": password})
    return response.status_code


def token_works(client: FlaskClient, access_token: str) -> bool:
    response = client.get("/auth/me", headers=bearer(access_token))
    if response.status_code == 401:
        assert_problem(response, 401)
        assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]
        return False
    assert response.status_code == 200, response.get_data(as_text=True)
    return True


def show_fields(output: str) -> dict[str, str]:
    """`users show` prints one `label: value` line per field."""
    pairs = (line.split(":", 1) for line in output.splitlines())
    return {label.strip(): value.strip() for label, value in pairs}


# --- users create -----------------------------------------------------------


def test_create_reads_the_password_from_stdin_and_the_account_can_log_in(
    cli: Cli, client: FlaskClient
) -> None:
    result = cli(
        "users",
        "create",
        "carol",
        "--email",
        "carol@example.com",
        "--password-stdin",
        input=f"{GOOD_PASSWORD}\n",
    )

    assert result.exit_code == 0, result.output
    carol = stored_user("carol")
    assert carol is not None
    assert (carol.email, carol.role, carol.is_active) == ("carol@example.com", "user", True)
    assert f"created user carol (id {carol.id}, role user)" in result.output
    assert GOOD_PASSWORD not in result.output
    assert login_status(client, "carol", GOOD_PASSWORD) == 200


def test_create_stores_username_and_email_lower_cased(cli: Cli) -> None:
    result = cli(
        "users",
        "create",
        "Carol",
        "--email",
        "Carol@Example.COM",
        "--password-stdin",
        input=f"{GOOD_PASSWORD}\n",
    )

    assert result.exit_code == 0, result.output
    assert stored_user("carol").email == "carol@example.com"


def test_create_with_role_admin_makes_an_administrator(
    cli: Cli, client: FlaskClient, login: Login
) -> None:
    result = cli(
        "users",
        "create",
        "dora",
        "--email",
        "dora@example.com",
        "--role",
        "admin",
        "--password-stdin",
        input=f"{GOOD_PASSWORD}\n",
    )

    assert result.exit_code == 0, result.output
    assert "role admin" in result.output
    assert stored_user("dora").role == "admin"
    tokens = login("dora", GOOD_PASSWORD)
    assert {"users:read", "users:write"} <= set(tokens["scope"].split())


def test_create_refuses_an_unknown_role(cli: Cli) -> None:
    result = cli(
        "users",
        "create",
        "dora",
        "--email",
        "dora@example.com",
        "--role",
        "root",
        "--password-stdin",
        input=f"{GOOD_PASSWORD}\n",
    )

    assert result.exit_code != 0
    assert "root" in result.output
    assert stored_user("dora") is None


def test_create_without_password_stdin_prompts_twice_without_echo(cli: Cli) -> None:
    result = cli("users", "create", "erin", "--email", "erin@example.com", input="pw\npw\n")

    # Two prompts, and what was typed after each is not echoed back.
    prompts = [line for line in result.output.splitlines() if not line.startswith("database:")]
    assert prompts[:2] == ["Password: ", "Repeat for confirmation: "]
    # "pw" is far too short, so the account is refused after both prompts.
    assert result.exit_code != 0
    assert "at least 12 characters" in result.output
    assert stored_user("erin") is None


def test_create_with_a_good_password_typed_twice_creates_the_account(
    cli: Cli, client: FlaskClient
) -> None:
    result = cli(
        "users",
        "create",
        "erin",
        "--email",
        "erin@example.com",
        input=f"{GOOD_PASSWORD}\n{GOOD_PASSWORD}\n",
    )

    assert result.exit_code == 0, result.output
    assert GOOD_PASSWORD not in result.output
    assert stored_user("erin") is not None
    assert login_status(client, "erin", GOOD_PASSWORD) == 200


def test_create_with_mismatched_typed_passwords_creates_nothing(cli: Cli) -> None:
    result = cli(
        "users",
        "create",
        "erin",
        "--email",
        "erin@example.com",
        input=f"{GOOD_PASSWORD}\n{GOOD_PASSWORD} typo\n",
    )

    assert result.exit_code != 0
    assert "do not match" in result.output
    assert stored_user("erin") is None


@pytest.mark.parametrize(
    ("username", "email", "password", "message"),
    [
        ("x", "x@example.com", GOOD_PASSWORD, "username"),
        ("bad name!", "bad@example.com", GOOD_PASSWORD, "username"),
        ("u" * 33, "long@example.com", GOOD_PASSWORD, "username"),
        ("frank", "not-an-email", GOOD_PASSWORD, "email"),
        ("frank", "frank@example.com", "short", "at least 12 characters"),
        ("frank", "frank@example.com", "p" * 129, "at most 128 characters"),
        ("frank", "frank@example.com", "123qweasdzxc", "most commonly used"),
    ],
    ids=[
        "short-username",
        "username-with-symbols",
        "long-username",
        "bad-email",
        "short-password",
        "long-password",
        "common-password",
    ],
)
def test_create_refuses_invalid_input_with_a_clear_message_and_creates_nothing(
    cli: Cli, username: str, email: str, password: str, message: str
) -> None:
    result = cli(
        "users",
        "create",
        username,
        "--email",
        email,
        "--password-stdin",
        input=f"{password}\n",
    )

    assert result.exit_code != 0
    assert "Error:" in result.output
    assert message in result.output
    assert "Traceback" not in result.output
    db.session.expire_all()
    assert db.session.query(User).count() == 0


@pytest.mark.parametrize(
    ("username", "email"),
    [
        ("alice", "other@example.com"),
        ("ALICE", "other@example.com"),
        ("other", "Alice@Example.com"),
    ],
    ids=["same-username", "username-other-case", "same-email"],
)
def test_create_refuses_a_taken_username_or_email(
    cli: Cli, alice: User, username: str, email: str
) -> None:
    result = cli(
        "users",
        "create",
        username,
        "--email",
        email,
        "--password-stdin",
        input=f"{GOOD_PASSWORD}\n",
    )

    assert result.exit_code != 0
    assert "already taken" in result.output
    db.session.expire_all()
    assert db.session.query(User).count() == 1


# --- users list / show ------------------------------------------------------


def test_list_shows_every_account_with_role_and_state(
    cli: Cli, alice: User, admin: User, make_user: Callable[..., User]
) -> None:
    make_user("dave")
    cli("users", "disable", "dave")

    result = cli("users", "list")

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["ID", "USERNAME", "ROLE", "ACTIVE", "EMAIL"]
    rows = {line.split()[1]: line.split() for line in lines[1:]}
    assert rows["alice"] == [str(alice.id), "alice", "user", "yes", "alice@example.com"]
    assert rows["root"][2:4] == ["admin", "yes"]
    assert rows["dave"][2:4] == ["user", "no"]
    assert "password" not in result.output.lower()


def test_list_with_no_accounts_prints_only_the_header(cli: Cli) -> None:
    result = cli("users", "list")

    assert result.exit_code == 0
    assert len(result.output.splitlines()) == 1


def test_show_prints_the_account_and_its_live_sessions(cli: Cli, alice: User, login: Login) -> None:
    login("alice")
    login("alice")

    result = cli("users", "show", "alice")

    assert result.exit_code == 0, result.output
    fields = show_fields(result.output)
    assert fields["id"] == str(alice.id)
    assert fields["username"] == "alice"
    assert fields["email"] == "alice@example.com"
    assert fields["role"] == "user"
    assert fields["active"] == "yes"
    assert fields["sessions"] == "2"
    assert "pbkdf2" not in result.output


def test_show_finds_an_account_by_email(cli: Cli, alice: User) -> None:
    result = cli("users", "show", "ALICE@example.com")

    assert result.exit_code == 0, result.output
    assert "alice" in result.output


def test_show_does_not_count_revoked_sessions(
    cli: Cli, client: FlaskClient, alice: User, alice_headers: dict[str, str], login: Login
) -> None:
    login("alice")
    client.post("/auth/logout", headers=alice_headers)

    result = cli("users", "show", "alice")

    assert result.exit_code == 0, result.output
    assert show_fields(result.output)["sessions"] == "1"


# --- users set-password -----------------------------------------------------


def test_set_password_changes_it_and_revokes_every_session(
    cli: Cli, client: FlaskClient, alice: User, alice_tokens: dict[str, Any]
) -> None:
    new_password = "an entirely new passphrase"

    result = cli("users", "set-password", "alice", "--password-stdin", input=f"{new_password}\n")

    assert result.exit_code == 0, result.output
    assert "1 session(s) revoked" in result.output
    assert not token_works(client, alice_tokens["access_token"])
    assert_problem(refresh(client, alice_tokens["refresh_token"]), 401)
    assert login_status(client, "alice", PASSWORD) == 401
    assert login_status(client, "alice", new_password) == 200


def test_set_password_prompts_twice_when_not_reading_stdin(
    cli: Cli, client: FlaskClient, alice: User
) -> None:
    new_password = "an entirely new passphrase"

    result = cli("users", "set-password", "alice", input=f"{new_password}\n{new_password}\n")

    assert result.exit_code == 0, result.output
    assert "Repeat for confirmation:" in result.output
    assert new_password not in result.output
    assert login_status(client, "alice", new_password) == 200


def test_set_password_refuses_a_weak_password_and_changes_nothing(
    cli: Cli, client: FlaskClient, alice: User, alice_tokens: dict[str, Any]
) -> None:
    result = cli("users", "set-password", "alice", "--password-stdin", input="password\n")

    assert result.exit_code != 0
    assert "at least 12 characters" in result.output
    assert token_works(client, alice_tokens["access_token"])
    assert login_status(client, "alice", PASSWORD) == 200


# --- users set-role ---------------------------------------------------------


def test_set_role_promotes_a_user(cli: Cli, alice: User, login: Login) -> None:
    result = cli("users", "set-role", "alice", "admin")

    assert result.exit_code == 0, result.output
    assert "alice is now admin" in result.output
    assert stored_user("alice").role == "admin"
    assert "users:write" in login("alice")["scope"].split()


def test_set_role_demotion_takes_admin_scopes_from_existing_tokens_at_once(
    cli: Cli, client: FlaskClient, admin: User, admin_headers: dict[str, str]
) -> None:
    assert client.get("/api/v1/admin/users", headers=admin_headers).status_code == 200

    result = cli("users", "set-role", "root", "user")

    assert result.exit_code == 0, result.output
    assert stored_user("root").role == "user"
    denied = client.get("/api/v1/admin/users", headers=admin_headers)
    assert_problem(denied, 403)
    assert 'error="insufficient_scope"' in denied.headers["WWW-Authenticate"]
    assert client.get("/api/v1/notes", headers=admin_headers).status_code == 200


def test_set_role_refuses_an_unknown_role(cli: Cli, alice: User) -> None:
    result = cli("users", "set-role", "alice", "superuser")

    assert result.exit_code != 0
    assert "superuser" in result.output
    assert stored_user("alice").role == "user"


# --- users disable / enable -------------------------------------------------


def test_disable_revokes_every_token_and_blocks_login(
    cli: Cli, client: FlaskClient, alice: User, alice_tokens: dict[str, Any], login: Login
) -> None:
    second = login("alice")

    result = cli("users", "disable", "alice")

    assert result.exit_code == 0, result.output
    assert "alice disabled" in result.output
    assert stored_user("alice").is_active is False
    for tokens in (alice_tokens, second):
        assert not token_works(client, tokens["access_token"])
        assert_problem(refresh(client, tokens["refresh_token"]), 401)
    assert login_status(client, "alice", PASSWORD) == 401


def test_enable_lets_the_user_log_in_again_but_old_tokens_stay_dead(
    cli: Cli, client: FlaskClient, alice: User, alice_tokens: dict[str, Any]
) -> None:
    cli("users", "disable", "alice")

    result = cli("users", "enable", "alice")

    assert result.exit_code == 0, result.output
    assert "alice enabled" in result.output
    assert stored_user("alice").is_active is True
    assert not token_works(client, alice_tokens["access_token"])
    assert_problem(refresh(client, alice_tokens["refresh_token"]), 401)
    assert login_status(client, "alice", PASSWORD) == 200


def test_disable_leaves_other_accounts_alone(
    cli: Cli, client: FlaskClient, alice: User, bob_headers: dict[str, str]
) -> None:
    cli("users", "disable", "alice")

    assert client.get("/auth/me", headers=bob_headers).status_code == 200
    assert stored_user("bob").is_active is True


# --- users delete -----------------------------------------------------------


def count_rows(model: type, user_id: int) -> int:
    db.session.expire_all()
    column = model.owner_id if model is Note else model.user_id
    return db.session.query(model).filter(column == user_id).count()


def test_delete_with_yes_removes_the_account_its_notes_and_its_sessions(
    cli: Cli,
    client: FlaskClient,
    alice: User,
    alice_tokens: dict[str, Any],
    alice_headers: dict[str, str],
    bob_headers: dict[str, str],
) -> None:
    alice_id = alice.id
    client.post("/api/v1/notes", json={"title": "alice's"}, headers=alice_headers)
    client.post("/api/v1/notes", json={"title": "bob's"}, headers=bob_headers)

    result = cli("users", "delete", "alice", "--yes")

    assert result.exit_code == 0, result.output
    assert "alice deleted" in result.output
    assert stored_user("alice") is None
    assert count_rows(Note, alice_id) == 0
    assert count_rows(AuthSession, alice_id) == 0
    assert not token_works(client, alice_tokens["access_token"])
    assert client.get("/api/v1/notes", headers=bob_headers).json["total"] == 1


def test_a_deleted_users_notes_never_pass_to_a_later_account(
    cli: Cli,
    client: FlaskClient,
    make_user: Callable[..., User],
    alice: User,
    alice_headers: dict[str, str],
    login: Login,
) -> None:
    client.post("/api/v1/notes", json={"title": "alice's secret"}, headers=alice_headers)
    cli("users", "delete", "alice", "--yes")
    make_user("mallory")

    listed = client.get("/api/v1/notes", headers=bearer(login("mallory")["access_token"]))

    assert listed.json["total"] == 0, f"mallory sees {listed.json['items']}"


def test_a_deleted_users_tokens_never_pass_to_a_later_account(
    cli: Cli,
    client: FlaskClient,
    make_user: Callable[..., User],
    alice: User,
    alice_tokens: dict[str, Any],
) -> None:
    cli("users", "delete", "alice", "--yes")
    mallory = make_user("mallory")

    stale = client.get("/auth/me", headers=bearer(alice_tokens["access_token"]))

    assert stale.status_code == 401, (
        f"alice's token was accepted as {stale.json.get('username')!r} (id {mallory.id})"
    )
    assert_problem(client.post("/auth/refresh", headers=bearer(alice_tokens["refresh_token"])), 401)


def test_delete_without_yes_asks_and_keeps_the_account_when_declined(cli: Cli, alice: User) -> None:
    result = cli("users", "delete", "alice", input="n\n")

    assert "Delete alice and all their data?" in result.output
    assert result.exit_code != 0
    assert "Aborted" in result.output
    assert stored_user("alice") is not None


def test_delete_without_yes_deletes_once_confirmed(cli: Cli, alice: User) -> None:
    result = cli("users", "delete", "alice", input="y\n")

    assert result.exit_code == 0, result.output
    assert "Delete alice and all their data?" in result.output
    assert stored_user("alice") is None


# --- users revoke-sessions --------------------------------------------------


def test_revoke_sessions_kills_every_token_of_the_account_only(
    cli: Cli,
    client: FlaskClient,
    alice: User,
    alice_tokens: dict[str, Any],
    bob_headers: dict[str, str],
    login: Login,
) -> None:
    second = login("alice")

    result = cli("users", "revoke-sessions", "alice")

    assert result.exit_code == 0, result.output
    assert "2 session(s) and every personal access token of alice revoked" in result.output
    for tokens in (alice_tokens, second):
        assert not token_works(client, tokens["access_token"])
        assert_problem(refresh(client, tokens["refresh_token"]), 401)
    assert client.get("/auth/me", headers=bob_headers).status_code == 200
    assert stored_user("alice").is_active is True
    assert login_status(client, "alice", PASSWORD) == 200


# --- unknown accounts -------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "stdin"),
    [
        (("users", "show", "ghost"), None),
        (("users", "set-password", "ghost", "--password-stdin"), f"{GOOD_PASSWORD}\n"),
        (("users", "set-role", "ghost", "admin"), None),
        (("users", "disable", "ghost"), None),
        (("users", "enable", "ghost"), None),
        (("users", "delete", "ghost", "--yes"), None),
        (("users", "delete", "ghost"), "y\n"),
        (("users", "revoke-sessions", "ghost"), None),
    ],
    ids=lambda value: " ".join(value) if isinstance(value, tuple) else "",
)
def test_every_command_on_an_unknown_user_fails_with_a_message(
    cli: Cli, alice: User, args: tuple[str, ...], stdin: str | None
) -> None:
    result = cli(*args, input=stdin)

    assert result.exit_code != 0
    assert "no user 'ghost'" in result.output
    assert "Traceback" not in result.output
    db.session.expire_all()
    assert db.session.query(User).count() == 1
