"""Weak secrets: no issued token verifies with a known or documented secret (catalogue B17),
and Production refuses to start with any of them (RFC 8725 3.5, OWASP JWT cheat sheet)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import subprocess
from importlib.resources import files
from pathlib import Path
from typing import Any

from myapi.config import Production
from tests.loopback import free_port
from tests.production.servers import BIN, ROOT

DOCUMENTS = ("README.md", ".env.example", "docs", "examples")
_ASSIGNMENT = re.compile(r"JWT_SECRET_KEY\s*[=:]\s*[\"']?([^\"'\n`|]+?)[\"']?\s*$", re.M)


def wordlist() -> list[str]:
    """The bundled list: common JWT secrets and every example value this project publishes."""
    text = files("myapi.security").joinpath("weak_secrets.txt").read_text("utf-8")
    return [line.strip() for line in text.splitlines() if line.strip() and line[0] != "#"]


def documented_secrets() -> set[str]:
    """Every literal JWT_SECRET_KEY value in the README, .env.example, docs and examples."""
    found: set[str] = set()
    for name in DOCUMENTS:
        path = ROOT / name
        paths = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
        for document in paths:
            try:
                text = document.read_text("utf-8")
            except (UnicodeDecodeError, OSError):
                continue
            found.update(value.strip() for value in _ASSIGNMENT.findall(text))
    return {value for value in found if value and not value.startswith(("$", "%"))}


def candidates() -> list[str]:
    return sorted(set(wordlist()) | documented_secrets())


def verifies(token: str, secret: str) -> bool:
    signing_input, _, signature = token.rpartition(".")
    mac = hmac.new(secret.encode(), signing_input.encode(), hashlib.sha256).digest()
    expected = base64.urlsafe_b64encode(mac).rstrip(b"=").decode()
    return hmac.compare_digest(expected, signature)


def test_the_wordlist_holds_every_documented_example_secret() -> None:
    documented = documented_secrets()

    assert documented, "the README/.env.example show no JWT_SECRET_KEY value any more?"
    assert documented <= set(wordlist())


def test_B17_issued_tokens_are_not_cracked_by_the_wordlist(alice_tokens: dict[str, Any]) -> None:
    issued = [alice_tokens["access_token"], alice_tokens["refresh_token"]]

    cracked = [secret for token in issued for secret in candidates() if verifies(token, secret)]

    assert cracked == []


def test_B17_the_cracker_itself_works(alice_tokens: dict[str, Any], jwt_secret: str) -> None:
    # Guards against a cracker that can never succeed: it does find the real key.
    assert verifies(alice_tokens["access_token"], jwt_secret)


def test_production_refuses_every_weak_secret() -> None:
    accepted = [
        secret
        for secret in candidates()
        if not any(
            reason.startswith("JWT_SECRET_KEY")
            for reason in Production(JWT_SECRET_KEY=secret).unsafe_reasons()
        )
    ]

    assert accepted == []


def test_production_gunicorn_refuses_to_start_with_the_example_secret(
    server_env: dict[str, str], tmp_path: Path
) -> None:
    (example,) = [v for v in documented_secrets() if v.startswith("replace-with")]
    env = (
        os.environ
        | server_env
        | {
            "JWT_SECRET_KEY": example,
            "GUNICORN_BIND": f"127.0.0.1:{free_port()}",
            "GUNICORN_WORKERS": "1",
        }
    )

    result = subprocess.run(
        [str(BIN / "gunicorn"), "-c", "gunicorn.conf.py", "wsgi:app"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode != 0
    assert "refusing to start" in result.stderr
    assert "JWT_SECRET_KEY is an example value" in result.stderr
