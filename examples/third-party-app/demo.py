"""`make oauth-demo`: the API and the example third-party app side by side on loopback.

On first run it prepares everything in `instance/oauth-demo/` (its own SQLite database, a
signing key encryption key, the app's client credentials and a demo account), then starts
the API on http://127.0.0.1:5000 in keys mode and the app on http://127.0.0.1:5174 (ports
from API_PORT and APP_PORT), and prints where to go. Ctrl-C stops both. Delete
`instance/oauth-demo/` to start afresh.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
STATE_DIR = ROOT / "instance" / "oauth-demo"
STATE = STATE_DIR / "state.json"
API_PORT = os.environ.get("API_PORT", "5000")
API_URL = f"http://127.0.0.1:{API_PORT}"
APP_URL = f"http://127.0.0.1:{os.environ.get('APP_PORT', '5174')}"
DEMO_USER = "demo"


def _state() -> dict[str, str]:
    if STATE.exists():
        return json.loads(STATE.read_text())
    STATE_DIR.mkdir(parents=True, exist_ok=True)
    state = {
        "jwt_secret_key": secrets.token_hex(32),
        "encryption_key": Fernet.generate_key().decode(),
        "password": "demo " + secrets.token_urlsafe(12),
    }
    _save(state)
    return state


def _save(state: dict[str, str]) -> None:
    STATE.write_text(json.dumps(state, indent=2))
    STATE.chmod(0o600)


def _api_env(state: dict[str, str]) -> dict[str, str]:
    return os.environ | {
        "MYAPI_CONFIG": "development",
        "DATABASE_URL": f"sqlite:///{STATE_DIR / 'myapi.db'}",
        "JWT_SECRET_KEY": state["jwt_secret_key"],
        "TOKEN_SIGNING": "keys",
        "SIGNING_KEY_ENCRYPTION_KEYS": state["encryption_key"],
        "PUBLIC_URL": API_URL,
        "JWT_ISSUER": API_URL,
        "REDIS_URL": "",
    }


def _flask(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    result = subprocess.run(  # noqa: S603 - fixed argument lists, no shell
        [str(BIN / "flask"), "--app", "wsgi", *args],
        cwd=ROOT,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        sys.exit(f"flask {' '.join(args)} failed:\n{result.stdout}{result.stderr}")
    return result.stdout


def prepare() -> tuple[dict[str, str], dict[str, str]]:
    state = _state()
    env = _api_env(state)
    _flask(env, "db", "upgrade")
    if "client_id" not in state:
        _flask(env, "keys", "generate")
        created = _flask(
            env, "clients", "create", "Notes viewer (demo)",
            "--scope", "openid profile notes:read",
            "--redirect-uri", f"{APP_URL}/callback",
        )  # fmt: skip
        state["client_id"] = re.search(r"client_id: +(\S+)", created)[1]
        state["client_secret"] = re.search(r"client_secret: +(\S+)", created)[1]
        _flask(
            env, "users", "create", DEMO_USER, "--email", "demo@example.com",
            "--password-stdin", stdin=state["password"] + "\n",
        )  # fmt: skip
        _save(state)
    if state.get("app_url", APP_URL) != APP_URL:
        _flask(env, "clients", "set-redirect-uris", state["client_id"], f"{APP_URL}/callback")
    state["app_url"] = APP_URL
    _save(state)
    return state, env


def _wait_for(url: str) -> None:
    for _ in range(100):
        try:
            urllib.request.urlopen(url, timeout=1)  # noqa: S310 (our own loopback URL)
            return
        except OSError:
            time.sleep(0.1)
    sys.exit(f"{url} did not answer")


def main() -> None:
    # A plain `kill` stops both servers too, not only this script.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    state, env = prepare()
    api = subprocess.Popen(  # noqa: S603
        [str(BIN / "flask"), "--app", "wsgi", "run", "--host", "127.0.0.1", "--port", API_PORT],
        cwd=ROOT,
        env=env,
    )
    app_env = os.environ | {
        "MYAPI_URL": API_URL,
        "APP_URL": APP_URL,
        "CLIENT_ID": state["client_id"],
        "CLIENT_SECRET": state["client_secret"],
    }
    app_path = str(Path(__file__).with_name("app.py"))
    app = subprocess.Popen([sys.executable, app_path], env=app_env)  # noqa: S603
    try:
        _wait_for(f"{API_URL}/healthz")
        _wait_for(APP_URL)
        print(
            f"\nOpen {APP_URL}/ and sign in with myapi as {DEMO_USER!r}, password "
            f"{state['password']!r}.\nThe API is on {API_URL}; Ctrl-C stops both.\n",
            flush=True,
        )
        app.wait()
    except KeyboardInterrupt:
        pass
    finally:
        for process in (app, api):
            process.terminate()
            process.wait(timeout=10)


if __name__ == "__main__":
    main()
