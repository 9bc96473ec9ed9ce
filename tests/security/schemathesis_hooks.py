"""Schemathesis hooks for the live run (SCHEMATHESIS_HOOKS=tests.security.schemathesis_hooks).

Authentication, through schemathesis' auth providers, so that every phase (examples,
coverage, fuzzing, stateful) reaches the authenticated operations with live credentials:

* The operations that end sessions (logout, logout everywhere, password change, refresh)
  get a token from a new login of a throwaway user on every call (a refresh token for
  /auth/refresh), so they never end the credentials the other operations use.
* The OAuth endpoints that take client credentials (token, introspection) get those of a
  client allowed every client scope, in HTTP Basic.
* Every other operation uses an administrator token (admins hold every scope, and the API
  refuses an administrator's changes to their own account). Each phase logs in afresh (the
  token is cached per phase), and a 401 makes schemathesis log in again and replay the
  request once (its reactive re-authentication, `retry_on=[401]`): the stateful phase may
  revoke the administrator's own session (`DELETE /auth/sessions/{id}` with an id it
  listed), and every later case still runs with a live token. No operation is excluded.

Test data: OAuth form credentials are dropped, since the Authorization header already
authenticates (a request may use one method only). A password change is only schema-valid
in a useful way with the right current password, which no generator can guess; a generated
`current_password` that is a valid string is replaced by the throwaway user's real one (and
the user is re-created when a change succeeds), the way schemathesis' docs suggest
supplying real ids. The accounts made
before the run (ids below MYAPI_FUZZ_FIRST_OWN_ID) belong to the rest of the suite, which
the fuzz server shares a database with: an administrator's change aimed at one of them is
aimed at the administrator's own account instead, which the API refuses (409) after
validating the body. The accounts the run registers itself are changed for real.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import threading
import urllib.error
import urllib.request
from typing import Any

import schemathesis

BASE_URL = os.environ.get("MYAPI_FUZZ_URL", "")
ADMIN = (os.environ.get("MYAPI_FUZZ_ADMIN", ""), os.environ.get("MYAPI_FUZZ_ADMIN_PASSWORD", ""))
ADMIN_ID = int(os.environ.get("MYAPI_FUZZ_ADMIN_ID", "0"))
FIRST_OWN_ID = int(os.environ.get("MYAPI_FUZZ_FIRST_OWN_ID", "0"))
CLIENT = (
    os.environ.get("MYAPI_FUZZ_CLIENT_ID", ""),
    os.environ.get("MYAPI_FUZZ_CLIENT_SECRET", ""),
)
# The run acts as the trusted proxy, like every client of the security suite.
PROXY_HEADERS = {"X-Forwarded-Proto": "https", "Content-Type": "application/json"}
SESSION_ENDING = [
    "POST /auth/logout",
    "POST /auth/logout-all",
    "PUT /auth/password",
    "POST /auth/refresh",
]
CLIENT_AUTHENTICATED = ["POST /oauth/token", "POST /oauth/introspect"]
ADMINISTER_ACCOUNT = "PATCH /api/v1/admin/users/{user_id}"


def _post(path: str, body: dict[str, str]) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(
        BASE_URL + path, data=json.dumps(body).encode(), headers=PROXY_HEADERS, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=15) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, {}


def _login(username: str, password: str, kind: str = "access_token") -> str | None:
    status, body = _post("/auth/login", {"username": username, "password": password})
    return body[kind] if status == 200 else None


def _authorize(case: Any, credentials: str) -> None:
    """Authenticate in the Authorization header, and only there: a request may use one
    method (RFC 6749 2.3), so generated form credentials of the OAuth endpoints go."""
    case.headers = {**(case.headers or {}), "Authorization": credentials}
    if case.operation.path.startswith("/oauth/") and isinstance(case.body, dict):
        case.body.pop("client_id", None)
        case.body.pop("client_secret", None)


def _phase(case: Any, context: Any) -> str:
    """The administrator's token is cached per phase, so each phase starts with a new login."""
    return case.meta.phase.name if case.meta else "explicit"


@schemathesis.auth(cache_by_key=_phase).skip_for(name=SESSION_ENDING + CLIENT_AUTHENTICATED)
class AdministratorToken:
    def get(self, case: Any, context: Any) -> str:
        token = _login(*ADMIN)
        assert token, "the administrator could not log in"
        return token

    def set(self, case: Any, data: str, context: Any) -> None:
        _authorize(case, f"Bearer {data}")
        if f"{case.method.upper()} {case.operation.path}" == ADMINISTER_ACCOUNT:
            _spare_the_suites_accounts(case.path_parameters)


def _spare_the_suites_accounts(parameters: dict[str, Any] | None) -> None:
    user_id = str((parameters or {}).get("user_id", ""))
    if user_id.isdigit() and 0 < int(user_id) < FIRST_OWN_ID:
        parameters["user_id"] = ADMIN_ID  # type: ignore[index]


@schemathesis.auth(refresh_interval=None).apply_to(name=CLIENT_AUTHENTICATED)
class ClientCredentials:
    def get(self, case: Any, context: Any) -> str:
        return base64.b64encode(":".join(CLIENT).encode()).decode()

    def set(self, case: Any, data: str, context: Any) -> None:
        _authorize(case, f"Basic {data}")


@schemathesis.auth(refresh_interval=None).apply_to(name=SESSION_ENDING)
class ThrowawaySessions:
    """A new session of the throwaway user per call: (token, that user's password)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._throwaway: tuple[str, str] | None = None

    def get(self, case: Any, context: Any) -> tuple[str, str]:
        kind = "refresh_token" if case.operation.path == "/auth/refresh" else "access_token"
        with self._lock:
            if self._throwaway is not None:
                token = _login(*self._throwaway, kind=kind)
                if token:
                    return token, self._throwaway[1]
            self._throwaway = _register_throwaway()
            token = _login(*self._throwaway, kind=kind)
            assert token
            return token, self._throwaway[1]

    def set(self, case: Any, data: tuple[str, str], context: Any) -> None:
        token, password = data
        _authorize(case, f"Bearer {token}")
        body = case.body
        if case.operation.path == "/auth/password" and isinstance(body, dict):
            current = body.get("current_password")
            if isinstance(current, str) and 1 <= len(current) <= 128:
                body["current_password"] = password
                self._forget(password)

    def _forget(self, password: str) -> None:
        """The change may succeed, and then this password is no longer known: start afresh."""
        with self._lock:
            if self._throwaway is not None and self._throwaway[1] == password:
                self._throwaway = None


def _register_throwaway() -> tuple[str, str]:
    name = f"fuzz-{secrets.token_hex(5)}"
    password = f"throwaway passphrase {secrets.token_hex(6)}"
    status, _ = _post(
        "/auth/register", {"username": name, "email": f"{name}@example.com", "password": password}
    )
    assert status == 201, status
    return name, password
