"""Schemathesis hooks for the live run (SCHEMATHESIS_HOOKS=tests.security.schemathesis_hooks).

Authentication: schemathesis may call the operations that end sessions (logout, logout
everywhere, password change, refresh), which would turn a shared token into a 401 for every
later case. So those operations get a token from a new login of a throwaway user on every
call (a refresh token for /auth/refresh), and every other operation uses one administrator
token (admins hold every scope, and the API refuses an administrator's changes to their own
account). No operation is excluded.

Test data: OAuth form credentials are dropped, since the Authorization header already
authenticates (a request may use one method only). A password change is only schema-valid
in a useful way with the right current password, which no generator can guess; a generated
`current_password` that is a valid string is replaced by the throwaway user's real one (and
the user is re-created when a change succeeds), the way schemathesis' docs suggest
supplying real ids.
"""

from __future__ import annotations

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
# The run acts as the trusted proxy, like every client of the security suite.
PROXY_HEADERS = {"X-Forwarded-Proto": "https", "Content-Type": "application/json"}
SESSION_ENDING = frozenset(
    {
        ("POST", "/auth/logout"),
        ("POST", "/auth/logout-all"),
        ("PUT", "/auth/password"),
        ("POST", "/auth/refresh"),
    }
)


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


@schemathesis.auth(refresh_interval=None)
class SuiteTokens:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._admin_token: str | None = None
        self._throwaway: tuple[str, str] | None = None

    def get(self, case: Any, context: Any) -> str:
        operation = (case.operation.method.upper(), case.operation.path)
        with self._lock:
            if operation in SESSION_ENDING:
                kind = "refresh_token" if operation[1] == "/auth/refresh" else "access_token"
                return self._throwaway_token(kind)
            if self._admin_token is None:
                self._admin_token = _login(*ADMIN)
            assert self._admin_token, "the administrator could not log in"
            return self._admin_token

    def _throwaway_token(self, kind: str) -> str:
        """A new session of the throwaway user; a new user if its password is not known now."""
        if self._throwaway is not None:
            token = _login(*self._throwaway, kind=kind)
            if token:
                return token
        name = f"fuzz-{secrets.token_hex(5)}"
        password = f"throwaway passphrase {secrets.token_hex(6)}"
        status, _ = _post(
            "/auth/register",
            {"username": name, "email": f"{name}@example.com", "password": password},
        )
        assert status == 201, status
        self._throwaway = (name, password)
        token = _login(name, password, kind=kind)
        assert token
        return token

    def set(self, case: Any, data: str, context: Any) -> None:
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}
        body = case.body
        if case.operation.path.startswith("/oauth/") and isinstance(body, dict):
            # One way of authenticating per request (RFC 6749 2.3): the header is set above,
            # so form credentials would make any such request a documented 400.
            body.pop("client_id", None)
            body.pop("client_secret", None)
        if case.operation.path == "/auth/password" and isinstance(body, dict):
            current = body.get("current_password")
            if isinstance(current, str) and 1 <= len(current) <= 128 and self._throwaway:
                body["current_password"] = self._throwaway[1]
                # If the change succeeds the password is no longer known: start afresh.
                self._throwaway = None
