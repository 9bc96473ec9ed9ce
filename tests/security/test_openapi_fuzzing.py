"""Schemathesis against the live server's /openapi.json, every check on: zero failures."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.production.servers import BIN, ROOT
from tests.security.live import Server
from tests.security.suite import Account

# Small enough to keep `make security` within its time budget on a 2-core CI machine.
MAX_EXAMPLES = int(os.environ.get("SECURITY_FUZZ_EXAMPLES", "25"))


def test_schemathesis_finds_no_failures(
    fuzz: Server, admin_account: Account, suite_dir: Path
) -> None:
    spec = fuzz.as_client().get("/openapi.json")
    assert spec.status == 200
    schema_path = suite_dir / "openapi.json"
    schema_path.write_text(json.dumps(spec.json))
    env = os.environ | {
        "SCHEMATHESIS_HOOKS": "tests.security.schemathesis_hooks",
        "PYTHONPATH": str(ROOT),
        "MYAPI_FUZZ_URL": fuzz.url,
        "MYAPI_FUZZ_ADMIN": admin_account.username,
        "MYAPI_FUZZ_ADMIN_PASSWORD": admin_account.password,
    }

    result = subprocess.run(
        [
            *(str(BIN / "st"), "run", str(schema_path), "--url", fuzz.url),
            *("--checks", "all", "--max-examples", str(MAX_EXAMPLES)),
            *("--header", "X-Forwarded-Proto: https", "--workers", "2"),
            *("--request-timeout", "15", "--seed", "20261123"),
            *("--report", "junit", "--report-dir", str(suite_dir / "schemathesis")),
        ],
        cwd=suite_dir,  # schemathesis keeps its example database in the working directory
        env=env,
        capture_output=True,
        text=True,
        timeout=420,
    )

    sys.stdout.write(result.stdout[-20000:])
    assert result.returncode == 0, result.stdout[-20000:] + result.stderr[-5000:]
