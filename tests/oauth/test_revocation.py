"""POST /oauth/revoke (RFC 7009): callers revoke their own tokens; anything else is a quiet 200."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient

from myapi.models import User
from myapi.security.scopes import parse_scope
from myapi.services.personal_tokens import issue as issue_personal_token
from tests.helpers.http import bearer, refresh
from tests.helpers.oauth import REVOKE, Credentials, assert_oauth_error, expired_copy

READ = parse_scope("notes:read")

ME = "/auth/me"
NOTES = "/api/v1/notes"


def assert_quiet_ok(response: Any) -> None:
    """RFC 7009 2.2: 200 with an empty body, whether or not anything was revoked."""
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.data == b""
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Pragma"] == "no-cache"


def revoke(client: FlaskClient, token: str, headers: dict[str, str], **form: str) -> Any:
    return client.post(REVOKE, data={"token": token, **form}, headers=headers)


def test_a_user_revokes_their_access_token_and_it_is_refused_at_once(
    client: FlaskClient, alice_tokens: dict[str, Any]
) -> None:
    access = alice_tokens["access_token"]

    assert_quiet_ok(revoke(client, access, bearer(access), token_type_hint="access_token"))

    assert client.get(ME, headers=bearer(access)).status_code == 401


def test_revoking_a_refresh_token_ends_its_session(
    client: FlaskClient, alice_tokens: dict[str, Any]
) -> None:
    access, refresh_token = alice_tokens["access_token"], alice_tokens["refresh_token"]

    assert_quiet_ok(revoke(client, refresh_token, bearer(access)))

    assert refresh(client, refresh_token).status_code == 401
    assert client.get(ME, headers=bearer(access)).status_code == 401


def test_a_user_revokes_a_personal_access_token(
    client: FlaskClient, alice: User, alice_headers: dict[str, str]
) -> None:
    _, pat = issue_personal_token(alice.id, "script", "notes:read", 30, within=READ)
    assert client.get(NOTES, headers=bearer(pat)).status_code == 200

    assert_quiet_ok(revoke(client, pat, alice_headers))

    assert client.get(NOTES, headers=bearer(pat)).status_code == 401


def test_a_personal_access_token_may_authenticate_the_revocation(
    client: FlaskClient, alice: User, alice_tokens: dict[str, Any]
) -> None:
    _, pat = issue_personal_token(alice.id, "script", "notes:read", 30, within=READ)
    access = alice_tokens["access_token"]

    assert_quiet_ok(revoke(client, access, bearer(pat)))

    assert client.get(ME, headers=bearer(access)).status_code == 401


def test_a_client_revokes_its_own_token(
    client: FlaskClient, reader: Credentials, client_token: Callable[..., str]
) -> None:
    token = client_token(reader)

    assert_quiet_ok(revoke(client, token, reader.basic))

    assert client.get(NOTES, headers=bearer(token)).status_code == 401


def test_a_client_may_authenticate_with_client_secret_post(
    client: FlaskClient, reader: Credentials, client_token: Callable[..., str]
) -> None:
    token = client_token(reader)

    assert_quiet_ok(client.post(REVOKE, data={"token": token, **reader.form}))

    assert client.get(NOTES, headers=bearer(token)).status_code == 401


@pytest.mark.parametrize(
    "token", ["garbage", "", "eyJhbGciOiJub25lIn0.e30.", "myapi_pat_" + "A" * 43]
)
def test_an_unknown_or_malformed_token_gets_the_same_quiet_200(
    client: FlaskClient, alice_headers: dict[str, str], token: str
) -> None:
    assert_quiet_ok(revoke(client, token, alice_headers))


def test_an_already_revoked_token_gets_the_same_quiet_200(
    client: FlaskClient, alice_tokens: dict[str, Any], reader: Credentials
) -> None:
    refresh_token = alice_tokens["refresh_token"]
    assert_quiet_ok(revoke(client, refresh_token, bearer(alice_tokens["access_token"])))

    assert_quiet_ok(revoke(client, refresh_token, reader.basic))


def test_an_expired_token_gets_the_same_quiet_200(
    client: FlaskClient, alice_tokens: dict[str, Any], alice_headers: dict[str, str]
) -> None:
    assert_quiet_ok(revoke(client, expired_copy(alice_tokens["access_token"]), alice_headers))


def test_someone_elses_token_gets_a_quiet_200_and_stays_valid(
    client: FlaskClient,
    alice_tokens: dict[str, Any],
    bob_headers: dict[str, str],
    reader: Credentials,
    client_token: Callable[..., str],
) -> None:
    alices = alice_tokens["access_token"]
    clients = client_token(reader)

    assert_quiet_ok(revoke(client, alices, bob_headers))
    assert_quiet_ok(revoke(client, alices, reader.basic))
    assert_quiet_ok(revoke(client, clients, bearer(alices)))

    assert client.get(ME, headers=bearer(alices)).status_code == 200
    assert client.get(NOTES, headers=bearer(clients)).status_code == 200


def test_another_clients_token_stays_valid(
    client: FlaskClient,
    reader: Credentials,
    make_client: Callable[..., Credentials],
    client_token: Callable[..., str],
) -> None:
    token = client_token(reader)

    assert_quiet_ok(revoke(client, token, make_client("notes:read").basic))

    assert client.get(NOTES, headers=bearer(token)).status_code == 200


def test_an_unauthenticated_request_is_invalid_client(
    client: FlaskClient, alice_tokens: dict[str, Any]
) -> None:
    access = alice_tokens["access_token"]

    assert_oauth_error(revoke(client, access, {}), 401, "invalid_client")
    assert client.get(ME, headers=bearer(access)).status_code == 200


def test_a_wrong_client_secret_is_invalid_client(
    client: FlaskClient, alice_tokens: dict[str, Any], reader: Credentials
) -> None:
    wrong = Credentials(reader.client_id, reader.secret + "x")

    assert_oauth_error(revoke(client, "x", wrong.basic), 401, "invalid_client")


def test_a_bad_bearer_token_is_invalid_token_with_a_bearer_challenge(
    client: FlaskClient, alice_tokens: dict[str, Any]
) -> None:
    refresh_token = alice_tokens["refresh_token"]

    for caller in ("garbage", refresh_token):
        response = revoke(client, alice_tokens["access_token"], bearer(caller))

        assert_oauth_error(response, 401, "invalid_token")
        assert response.headers["WWW-Authenticate"] == (
            'Bearer realm="myapi", error="invalid_token"'
        )


def test_a_missing_token_parameter_is_invalid_request(
    client: FlaskClient, alice_headers: dict[str, str]
) -> None:
    response = client.post(REVOKE, data={"token_type_hint": "access_token"}, headers=alice_headers)

    assert_oauth_error(response, 400, "invalid_request")


def test_an_unknown_type_hint_is_ignored(client: FlaskClient, alice_tokens: dict[str, Any]) -> None:
    access = alice_tokens["access_token"]

    assert_quiet_ok(revoke(client, access, bearer(access), token_type_hint="saml_assertion"))

    assert client.get(ME, headers=bearer(access)).status_code == 401
