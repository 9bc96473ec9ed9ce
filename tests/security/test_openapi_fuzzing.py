"""Schemathesis against the live server's /openapi.json, every check on: zero failures."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from tests.production.servers import BIN, ROOT
from tests.security.live import Server
from tests.security.suite import Account

# Examples per operation in each phase: the depth of a run from outside (issue 17), and
# still within `make security`'s time budget on a 2-core CI machine (about 100 s here).
MAX_EXAMPLES = int(os.environ.get("SECURITY_FUZZ_EXAMPLES", "60"))
PHASES = "examples,coverage,fuzzing,stateful"
CONFIG = Path(__file__).with_name("schemathesis.toml")


def test_schemathesis_finds_no_failures(
    fuzz: Server,
    admin_account: Account,
    every_scope_client: tuple[str, str],
    make_account: Callable[..., Account],
    suite_dir: Path,
) -> None:
    # Every account the suite made so far has a smaller id: the hooks leave those alone.
    first_own_id = make_account("fuzz-start").id
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
        "MYAPI_FUZZ_ADMIN_ID": str(admin_account.id),
        "MYAPI_FUZZ_FIRST_OWN_ID": str(first_own_id),
        "MYAPI_FUZZ_CLIENT_ID": every_scope_client[0],
        "MYAPI_FUZZ_CLIENT_SECRET": every_scope_client[1],
    }

    result = subprocess.run(
        [
            *(str(BIN / "st"), "--config-file", str(CONFIG), "run"),
            *(str(schema_path), "--url", fuzz.url),
            *("--checks", "all", "--phases", PHASES, "--max-examples", str(MAX_EXAMPLES)),
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
