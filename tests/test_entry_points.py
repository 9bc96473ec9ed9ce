"""Every way of starting the service refuses a bad configuration in one line on stderr and a
non-zero exit, never with a traceback: gunicorn from a checkout, `python -m myapi`, and the
Flask CLI through wsgi.py."""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.loopback import free_port
from tests.production.servers import BIN, ROOT

REFUSED = {"MYAPI_CONFIG": "production", "JWT_SECRET_KEY": "", "PUBLIC_URL": ""}
COMMANDS = {
    "gunicorn": [str(BIN / "gunicorn"), "-c", "gunicorn.conf.py", "wsgi:app"],
    "python -m myapi": [sys.executable, "-m", "myapi"],
    "flask CLI": [str(BIN / "flask"), "--app", "wsgi", "users", "list"],
}


def run(command: list[str], env: dict[str, str], cwd: Path = ROOT) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("MYAPI_", "GUNICORN_"))}
    env = base | {"GUNICORN_BIND": f"127.0.0.1:{free_port()}", "GUNICORN_WORKERS": "1"} | env
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=60)


def assert_one_line_refusal(result: subprocess.CompletedProcess, *fragments: str) -> None:
    assert result.returncode == 1, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("myapi: ")
    for fragment in fragments:
        assert fragment in lines[0]


@pytest.mark.parametrize("name", COMMANDS)
def test_a_refused_configuration_is_one_line_and_exit_status_1(name: str) -> None:
    result = run(COMMANDS[name], REFUSED)

    assert_one_line_refusal(
        result, "refusing to start", "JWT_SECRET_KEY is not set", "PUBLIC_URL is not set"
    )


@pytest.mark.parametrize("name", ["gunicorn", "python -m myapi"])
def test_a_malformed_server_setting_is_one_line_too(name: str) -> None:
    result = run(COMMANDS[name], {"MYAPI_CONFIG": "testing", "GUNICORN_THREADS": "four"})

    assert_one_line_refusal(result, "GUNICORN_THREADS must be a whole number")


# --- An unreadable .env -------------------------------------------------------------------
# The service user cannot read a .env that another user owns with mode 0600 (a root-owned one
# that `make run` left, as the outside operator found). The test runs as root, which reads
# every file, so the command runs without the capabilities that let root ignore file
# permissions, against a .env owned by `nobody`.

WITHOUT_FILE_OVERRIDES = ["setpriv", "--bounding-set=-dac_override,-dac_read_search"]


@pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("setpriv") is None,
    reason="needs root and setpriv to drop the capability to read any file",
)
@pytest.mark.parametrize(
    "command",
    [
        [sys.executable, "-m", "myapi"],
        [str(BIN / "flask"), "--app", "wsgi", "users", "list"],
    ],
    ids=["python -m myapi", "flask CLI"],
)
def test_an_unreadable_env_file_is_one_line_naming_it(tmp_path: Path, command: list[str]) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(f"JWT_SECRET_KEY={secrets.token_hex(32)}\n")
    env_file.chmod(0o600)
    os.chown(env_file, 65534, 65534)
    shutil.copy(ROOT / "wsgi.py", tmp_path / "wsgi.py")
    env = {
        "PYTHONPATH": str(ROOT),
        # The Flask CLI reads .env itself, before any of our code; the myapi-flask wrapper
        # (docs/deploy.md) turns that off, since the app reads .env on its own.
        "FLASK_SKIP_DOTENV": "1",
    }

    result = run([*WITHOUT_FILE_OVERRIDES, *command], env, cwd=tmp_path)

    assert_one_line_refusal(result, f"cannot read {env_file}", "Permission denied")
