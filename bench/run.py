"""`make bench`: start the production stack on loopback, load it with wrk, print one table.

Every figure that a target compares is measured side by side in this one run, against
the same gunicorn settings (gunicorn.conf.py and any GUNICORN_* in the environment).
PostgreSQL and Redis are used when BENCH_DATABASE_URL / BENCH_REDIS_URL are set (a
database of the bench's own is created and dropped; the Redis database given is
flushed before and after), SQLite and in-memory limiter storage otherwise.
"""

from __future__ import annotations

import json
import math
import os
import platform
import secrets
import signal
import statistics
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from bench.forgot_timing import forgot_timings, print_forgot_timings
from bench.inprocess import cpu_per_request, print_cpu_per_request
from bench.seed import PASSWORD, seed
from bench.signing import print_signing_costs, signing_costs
from bench.stack import (
    Load,
    Server,
    bench_database,
    ensure_wrk,
    fill_redis_denylist,
    fill_sql_denylist,
    finish_wrk,
    flush_redis,
    migrate,
    run_wrk,
    server_durations,
    start_wrk,
)

SECONDS = int(os.environ.get("BENCH_SECONDS", "5"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "8"))
REVOKED_ENTRIES = int(os.environ.get("BENCH_REVOKED_ENTRIES", "1000000"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))
RSS_FIRST, RSS_SECOND = 10_000, 100_000
RAISED_LIMIT = "100000000 per minute"
BARE = "bare Flask view (floor)"
RECIPE = "flask-jwt-extended recipe, token-info"
STORES = {
    True: "Redis revocation mirror and limiter storage",
    False: "SQL revocation store, memory:// limiter storage",
}


def log(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


def machine() -> str:
    cpu = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    return f"{os.cpu_count()} cores, {cpu}, Python {platform.python_version()}, {platform.system()}"


def app_env(database_url: str, redis_url: str, *, raised_limits: bool) -> dict[str, str]:
    env = {
        "MYAPI_CONFIG": "production",
        "JWT_SECRET_KEY": secrets.token_hex(32),
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "RATELIMIT_STORAGE_URI": redis_url or "memory://",
        # Requests arrive as if from a TLS-terminating proxy, as in production.
        "TRUSTED_PROXIES": "1",
        "PUBLIC_URL": "https://api.myapi.test",
        "LOG_LEVEL": "INFO",
        "METRICS_ENABLED": "false",
        # A leak must show in RSS, not be hidden by recycling workers.
        "GUNICORN_MAX_REQUESTS": "0",
    }
    if raised_limits:
        env |= {"RATELIMIT_DEFAULT": RAISED_LIMIT, "LOGIN_LIMIT_PER_IP": RAISED_LIMIT}
    return env


class Rows(list):
    """The table's rows, each also logged the moment it is measured."""

    def append(self, row: tuple[str, Load]) -> None:
        name, load = row
        log(f"  {name}: {load.rps:.0f} req/s, p50 {load.p50_ms:.2f} ms, p99 {load.p99_ms:.2f} ms")
        super().append(row)


def _stop_on_sigterm(_signum: int, _frame: object) -> None:
    raise SystemExit("bench: terminated; servers stopped and the bench database dropped")


def main() -> int:
    started = time.monotonic()
    # Turn SIGTERM into an exception, so the servers stop and the database is dropped.
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    ensure_wrk()
    database_admin_url = os.environ.get("BENCH_DATABASE_URL", "")
    redis_url = os.environ.get("BENCH_REDIS_URL", "")
    rows: list[tuple[str, Load]] = Rows()
    facts: dict[str, object] = {}
    with tempfile.TemporaryDirectory(prefix="myapi-bench-") as tmp:
        workdir = Path(tmp)
        server_log = workdir / "server.log"
        with bench_database(database_admin_url, workdir) as database_url:
            if redis_url:
                flush_redis(redis_url)
            try:
                run_all(workdir, server_log, database_url, redis_url, rows, facts)
            finally:
                if redis_url:
                    flush_redis(redis_url)
    log("signing and verifying one token, per signing choice (in process)")
    costs = signing_costs()
    log("password reset requests: an account's address against an unknown one (in process)")
    forgot = forgot_timings()
    facts["total_seconds"] = round(time.monotonic() - started)
    print_report(rows, facts, database_admin_url, redis_url)
    print_cpu_per_request(facts["cpu"])  # type: ignore[arg-type]
    print_signing_costs(costs)
    print_forgot_timings(*forgot)
    return 0


def run_all(
    workdir: Path,
    server_log: Path,
    database_url: str,
    redis_url: str,
    rows: list[tuple[str, Load]],
    facts: dict[str, object],
) -> None:
    migrate(database_url)
    env = app_env(database_url, redis_url, raised_limits=True)
    log("seeding users and sessions")
    seeded = seed(env, users=200, sessions=100)
    facts["hash_ms"] = seeded.hash_ms
    tokens = workdir / "tokens.txt"
    tokens.write_text("\n".join(seeded.access_tokens) + "\n")
    bodies = workdir / "logins.txt"
    bodies.write_text(
        "\n".join(
            json.dumps({"username": name, "password": PASSWORD}) for name in seeded.login_usernames
        )
        + "\n"
    )
    load = {"seconds": SECONDS, "connections": CONNECTIONS}
    short = {"seconds": max(1, SECONDS // 2), "connections": CONNECTIONS}

    # The two baselines run beside the service, under the same gunicorn settings, and are
    # measured in the same interleaved rounds: a bare Flask JSON view, and flask-jwt-extended's
    # documented pattern (it needs Redis for its blocklist).
    bare = Server("bench.bare_app:app", env, server_log).start()
    recipe = Server("bench.jwt_recipe:app", env, server_log).start() if redis_url else None
    server = Server("wsgi:app", env, server_log).start()
    try:
        authenticated = 0
        run_wrk(server.url, "/healthz", seconds=2, connections=CONNECTIONS)
        log(f"about {RSS_FIRST:,} authenticated requests, then worker RSS")
        # wrk runs for a duration, not a count: the rate of a short run sets the duration.
        warm = run_wrk(server.url, "/auth/token-info", seconds=2, connections=8, tokens=tokens)
        authenticated += warm.requests
        while authenticated < RSS_FIRST:
            more = run_wrk(
                server.url,
                "/auth/token-info",
                seconds=seconds_for(RSS_FIRST - authenticated, warm.rps),
                connections=CONNECTIONS,
                tokens=tokens,
            )
            authenticated += more.requests
        facts["rss_first"] = (authenticated, server.worker_rss_mib())
        log(f"  worker RSS after {authenticated:,}: {facts['rss_first'][1]}")

        log(f"baselines, healthz, token-info, me: interleaved, {ROUNDS} rounds")
        # Short runs in turn, summed: a neighbour's load on the machine then weighs on every
        # row alike, and the ratios stay meaningful even when the absolute rates drift.
        targets = {BARE: (bare.url, "/healthz"), "GET /healthz": (server.url, "/healthz")}
        if recipe is not None:
            targets[RECIPE] = (recipe.url, "/auth/token-info")
        targets["GET /auth/token-info"] = (server.url, "/auth/token-info")
        targets["GET /auth/me"] = (server.url, "/auth/me")
        for url, path in targets.values():
            run_wrk(url, path, tokens=tokens, seconds=1, connections=CONNECTIONS)
        rounds = {name: [] for name in targets}
        for _ in range(ROUNDS):
            for name, (url, path) in targets.items():
                rounds[name].append(run_wrk(url, path, tokens=tokens, **short))
        for name in targets:
            rows.append((name, combine(rounds[name])))
        token_info, me = combine(rounds["GET /auth/token-info"]), combine(rounds["GET /auth/me"])
        authenticated += token_info.requests + me.requests

        log("login latency at idle, then token-info under a login flood")
        offset = server_log.stat().st_size
        for name in seeded.login_usernames[:10]:
            login_once(server.url, name)
        time.sleep(0.5)
        facts["login_ms"] = statistics.median(server_durations(server_log, "/auth/login", offset))
        log(f"  login at idle {facts['login_ms']:.1f} ms, hash {seeded.hash_ms:.1f} ms")
        flood = start_wrk(
            server.url,
            "/auth/login",
            method="POST",
            bodies=bodies,
            seconds=SECONDS,
            connections=CONNECTIONS,
        )
        under_flood = run_wrk(server.url, "/auth/token-info", tokens=tokens, **load)
        logins = finish_wrk(flood)
        rows.append(("GET /auth/token-info, login flood", under_flood))
        rows.append(("POST /auth/login (the flood)", logins))

        log(f"revocation store: empty, then {REVOKED_ENTRIES:,} entries")
        before = run_wrk(server.url, "/auth/token-info", tokens=tokens, **load)
        fill_started = time.monotonic()
        if redis_url:
            fill_redis_denylist(redis_url, REVOKED_ENTRIES)
        else:
            fill_sql_denylist(database_url, REVOKED_ENTRIES)
        facts["fill_seconds"] = round(time.monotonic() - fill_started, 1)
        full = run_wrk(server.url, "/auth/token-info", tokens=tokens, **load)
        if redis_url:
            fill_redis_denylist(redis_url, REVOKED_ENTRIES, remove=True)
        else:
            fill_sql_denylist(database_url, REVOKED_ENTRIES, remove=True)
        after = run_wrk(server.url, "/auth/token-info", tokens=tokens, **load)
        # The empty store is measured before the fill and after the removal: drift cancels.
        empty = combine([before, after])
        rows.append(("GET /auth/token-info, store empty", empty))
        rows.append((f"GET /auth/token-info, {REVOKED_ENTRIES:,} revoked", full))
        authenticated += under_flood.requests + empty.requests + full.requests

        log(f"up to about {RSS_SECOND:,} authenticated requests, then worker RSS")
        while authenticated < RSS_SECOND:
            more = run_wrk(
                server.url,
                "/auth/token-info",
                seconds=seconds_for(RSS_SECOND - authenticated, empty.rps),
                connections=CONNECTIONS,
                tokens=tokens,
            )
            authenticated += more.requests
        facts["rss_second"] = (authenticated, server.worker_rss_mib())

    finally:
        server.stop()
        bare.stop()
        if recipe is not None:
            recipe.stop()

    log("CPU per request in process, without HTTP")
    facts["cpu"] = cpu_per_request(env, seeded.access_tokens[0])

    log("the limiter itself: a limit of one a minute, so nearly every answer is a 429")
    # Limits count per caller: one request per minute for each of the 100 token holders, so
    # after the first hundred nearly every answer is a 429.
    limited_env = app_env(database_url, redis_url, raised_limits=False)
    limited_env |= {"JWT_SECRET_KEY": env["JWT_SECRET_KEY"], "RATELIMIT_DEFAULT": "1 per minute"}
    limited = Server("wsgi:app", limited_env, server_log).start()
    try:
        rows.append(
            (
                "GET /auth/token-info, over the limit (429)",
                run_wrk(limited.url, "/auth/token-info", tokens=tokens, **load),
            )
        )
    finally:
        limited.stop()


def combine(loads: list[Load]) -> Load:
    """Several runs as one: requests and time summed, latency percentiles the worst round's."""
    return Load(
        requests=sum(load.requests for load in loads),
        seconds=sum(load.seconds for load in loads),
        p50_ms=statistics.median(load.p50_ms for load in loads),
        p99_ms=max(load.p99_ms for load in loads),
        non_2xx=sum(load.non_2xx for load in loads),
        socket_errors=sum(load.socket_errors for load in loads),
    )


def seconds_for(requests: int, rate: float) -> int:
    """A wrk duration that should carry `requests` at `rate` (the count wrk reports is used)."""
    return max(1, math.ceil(requests / max(rate, 1.0) * 1.05))


def login_once(url: str, username: str) -> None:
    body = json.dumps({"username": username, "password": PASSWORD}).encode()
    request = urllib.request.Request(  # noqa: S310 - a loopback http URL built here
        url + "/auth/login",
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "X-Forwarded-Proto": "https",
            "X-Forwarded-For": "198.51.100.8",
        },
    )
    with urllib.request.urlopen(request, timeout=10) as reply:  # noqa: S310
        reply.read()


def print_report(
    rows: list[tuple[str, Load]], facts: dict[str, object], database: str, redis_url: str
) -> None:
    by_name = dict(rows)
    healthz = by_name["GET /healthz"].rps
    bare, recipe = by_name[BARE].rps, by_name[RECIPE].rps if RECIPE in by_name else None
    print()
    print(f"machine: {machine()}")
    print(
        f"stack: gunicorn ({os.environ.get('GUNICORN_WORKERS', 'default')} workers, "
        f"{os.environ.get('GUNICORN_THREADS', 'default')} threads per gunicorn.conf.py), "
        f"{'PostgreSQL' if database else 'SQLite'}, "
        f"{STORES[bool(redis_url)]}; "
        f"wrk -t1 -c{CONNECTIONS} -d{SECONDS}s on loopback"
    )
    print()
    print(
        f"| {'run':<44} | {'req/s':>8} | {'p50 ms':>7} | {'p99 ms':>7} "
        f"| {'non-2xx':>7} | {'x bare':>6} | {'x recipe':>8} |"
    )
    print(f"|{'-' * 46}|{'-' * 10}|{'-' * 9}|{'-' * 9}|{'-' * 9}|{'-' * 8}|{'-' * 10}|")
    for name, load in rows:
        versus_recipe = f"{load.rps / recipe:>8.2f}" if recipe else f"{'-':>8}"
        print(
            f"| {name:<44} | {load.rps:>8.0f} | {load.p50_ms:>7.2f} | {load.p99_ms:>7.2f} "
            f"| {load.non_2xx + load.socket_errors:>7} | {load.rps / bare:>6.2f} "
            f"| {versus_recipe} |"
        )
    print()
    first_n, first_rss = facts["rss_first"]  # type: ignore[misc]
    second_n, second_rss = facts["rss_second"]  # type: ignore[misc]
    growth = (max(second_rss) / max(first_rss) - 1) * 100
    print(
        f"worker RSS (MiB, per worker): after {first_n:,} authenticated requests "
        f"{', '.join(f'{r:.1f}' for r in first_rss)}; after {second_n:,} "
        f"{', '.join(f'{r:.1f}' for r in second_rss)} (largest {growth:+.1f}%)"
    )
    hash_ms, login_ms = facts["hash_ms"], facts["login_ms"]
    print(
        f"login at idle: {login_ms:.1f} ms server-side, password hash {hash_ms:.1f} ms, "
        f"difference {login_ms - hash_ms:.1f} ms"  # type: ignore[operator]
    )
    print(f"filling the revocation store took {facts['fill_seconds']} s")
    print()
    token_info = by_name["GET /auth/token-info"]
    checks = [
        ("healthz >= 0.75 x bare Flask view", healthz / bare, 0.75, ">="),
        ("me >= 0.8 x token-info", by_name["GET /auth/me"].rps / token_info.rps, 0.8, ">="),
        (
            f"token-info with {REVOKED_ENTRIES:,} revoked >= 0.95 x empty",
            by_name[f"GET /auth/token-info, {REVOKED_ENTRIES:,} revoked"].rps
            / by_name["GET /auth/token-info, store empty"].rps,
            0.95,
            ">=",
        ),
        ("worker RSS growth 10k -> 100k <= 5%", growth, 5.0, "<="),
        *(
            [("token-info >= 1.0 x jwt-extended recipe", token_info.rps / recipe, 1.0, ">=")]
            if recipe
            else []
        ),
        ("worker RSS < 120 MiB", max(second_rss), 120.0, "<"),
        ("login - hash < 10 ms", login_ms - hash_ms, 10.0, "<"),  # type: ignore[operator]
        (
            "token-info p99 under login flood < 3 x idle p99",
            by_name["GET /auth/token-info, login flood"].p99_ms / token_info.p99_ms,
            3.0,
            "<",
        ),
    ]
    print("| target | measured | met |")
    print("|---|---|---|")
    for name, value, bound, op in checks:
        met = {">=": value >= bound, "<=": value <= bound, "<": value < bound}[op]
        print(f"| {name} | {value:.2f} | {'yes' if met else 'NO'} |")
    print()
    print(f"bench took {facts['total_seconds']} s")
