"""The live-token cap holds under concurrency: counting and inserting are one atomic step."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from flask import Flask

from myapi.services.accounts import register
from myapi.services.personal_tokens import MAX_LIVE_TOKENS, TooManyTokens, issue, live_tokens
from tests.helpers.http import PASSWORD

SCOPES = frozenset({"notes:read"})
PARALLEL = 20


def test_parallel_creations_never_pass_the_cap(concurrent_app: Flask) -> None:
    # The outside tester's case: 45 live tokens, then 20 creations at once, left 51 live.
    owner = register("alice", "alice@example.com", PASSWORD).id
    for n in range(MAX_LIVE_TOKENS - 5):
        issue(owner, f"script {n}", "notes:read", 30, within=SCOPES)

    def create(n: int) -> str:
        with concurrent_app.app_context():
            try:
                issue(owner, f"parallel {n}", "notes:read", 30, within=SCOPES)
            except TooManyTokens:
                return "refused"
            return "created"

    with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
        outcomes = list(pool.map(create, range(PARALLEL)))

    assert outcomes.count("created") == 5
    assert outcomes.count("refused") == PARALLEL - 5
    assert len(live_tokens(owner)) == MAX_LIVE_TOKENS
