"""Catalogue group D: revocation and the session lifecycle, across workers and restarts."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from typing import Any

import redis

from tests.helpers.polling import poll
from tests.production.servers import BIN, ROOT
from tests.security.expect import assert_insufficient_scope, assert_invalid_token, now, resign
from tests.security.live import Client, Reply, Server
from tests.security.suite import WORKERS, Account, login

ME = "/auth/me"


def test_D1_logged_out_access_token_is_refused_by_every_worker(
    client: Client, alice: Account
) -> None:
    token = login(client, alice.username, alice.password)["access_token"]
    assert client.post("/auth/logout", token=token).status == 204

    # Each request opens a new connection, so the workers take turns answering.
    replies = [client.get(ME, token=token) for _ in range(max(4, 2 * WORKERS + 2))]

    for reply in replies:
        assert_invalid_token(reply)


def test_D2_refresh_token_dies_with_logout(client: Client, alice: Account) -> None:
    tokens = login(client, alice.username, alice.password)
    assert client.post("/auth/logout", token=tokens["access_token"]).status == 204

    assert_invalid_token(client.post("/auth/refresh", token=tokens["refresh_token"]))


def hands_back(reply: Reply, pair: dict[str, Any]) -> bool:
    """The answer to a retry inside the grace window: exactly this pair, nothing new."""
    tokens = ("access_token", "refresh_token")
    return reply.status == 200 and all(reply.json[name] == pair[name] for name in tokens)


def test_D3_reusing_a_rotated_refresh_token_revokes_the_family(
    client: Client, alice: Account
) -> None:
    first = login(client, alice.username, alice.password)
    second = client.post("/auth/refresh", token=first["refresh_token"]).json

    # Inside the suite's 1 s REFRESH_GRACE_SECONDS a retry gets `second` back and changes
    # nothing, so the rotated token is presented until that stops: the first other answer
    # is its reuse after the window.
    reuse = poll(
        lambda: client.post("/auth/refresh", token=first["refresh_token"]),
        until=lambda reply: not hands_back(reply, second),
        what="the grace window of the rotated refresh token to close",
        timeout=15,
    )

    assert_invalid_token(reuse)
    assert_invalid_token(client.post("/auth/refresh", token=second["refresh_token"]))
    assert_invalid_token(client.get(ME, token=second["access_token"]))


def test_D4_password_change_ends_the_other_devices_sessions(
    client: Client, make_account: Callable[..., Account]
) -> None:
    dave = make_account("dave")
    phone = login(client, dave.username, dave.password)
    laptop = login(client, dave.username, dave.password)
    new_password = "a different passphrase " + dave.username

    changed = client.put(
        "/auth/password",
        json_body={"current_password": dave.password, "new_password": new_password},
        token=laptop["access_token"],
    )

    assert changed.status == 204, changed.text
    assert_invalid_token(client.get(ME, token=phone["access_token"]))
    assert_invalid_token(client.post("/auth/refresh", token=phone["refresh_token"]))
    assert login(client, dave.username, new_password)["access_token"]


def test_D5_disabled_account_tokens_are_refused(
    client: Client, make_account: Callable[..., Account], admin_tokens: dict[str, Any]
) -> None:
    erin = make_account("erin")
    tokens = login(client, erin.username, erin.password)

    reply = client.patch(
        f"/api/v1/admin/users/{erin.id}",
        json_body={"is_active": False},
        token=admin_tokens["access_token"],
    )

    assert reply.status == 200, reply.text
    assert_invalid_token(client.get(ME, token=tokens["access_token"]))
    assert_invalid_token(client.post("/auth/refresh", token=tokens["refresh_token"]))


def test_D5_deleted_account_tokens_are_refused(
    client: Client, make_account: Callable[..., Account], server_env: dict[str, str]
) -> None:
    frank = make_account("frank")
    tokens = login(client, frank.username, frank.password)

    subprocess.run(
        [str(BIN / "flask"), "--app", "wsgi", "users", "delete", frank.username, "--yes"],
        cwd=ROOT,
        env=os.environ | server_env,
        check=True,
        capture_output=True,
    )

    assert_invalid_token(client.get(ME, token=tokens["access_token"]))
    assert_invalid_token(client.post("/auth/refresh", token=tokens["refresh_token"]))


def test_D6_demoted_admin_token_loses_admin_scopes_at_once(
    client: Client, make_account: Callable[..., Account], admin_tokens: dict[str, Any]
) -> None:
    grace = make_account("grace")
    admin = admin_tokens["access_token"]
    promoted = client.patch(
        f"/api/v1/admin/users/{grace.id}", json_body={"role": "admin"}, token=admin
    )
    assert promoted.status == 200, promoted.text
    token = login(client, grace.username, grace.password)["access_token"]
    assert client.get("/api/v1/admin/users", token=token).status == 200

    demoted = client.patch(
        f"/api/v1/admin/users/{grace.id}", json_body={"role": "user"}, token=admin
    )

    assert demoted.status == 200, demoted.text
    assert_insufficient_scope(client.get("/api/v1/admin/users", token=token))


def test_D7_revocation_survives_a_restart(
    start_server: Callable[..., Server],
    server_env: dict[str, str],
    redis_url: str,
    make_account: Callable[..., Account],
) -> None:
    heidi = make_account("heidi")
    first = start_server(server_env, name="restart-1", behind_proxy=True)
    tokens = login(first.as_client(), heidi.username, heidi.password)
    assert first.as_client().post("/auth/logout", token=tokens["access_token"]).status == 204
    first.host.stop()
    if redis_url:
        # Harsher than a restart of a persistent redis-server: the suite's data is gone.
        redis.Redis.from_url(redis_url).flushdb()

    second = start_server(server_env, name="restart-2", behind_proxy=True).as_client()

    assert_invalid_token(second.get(ME, token=tokens["access_token"]))
    assert_invalid_token(second.post("/auth/refresh", token=tokens["refresh_token"]))
    second.server.host.stop()


def test_D8_refresh_token_idle_past_its_lifetime(
    client: Client, live: Server, alice: Account
) -> None:
    tokens = login(client, alice.username, alice.password)

    idle = resign(tokens["refresh_token"], live.secret, exp=now() - 60)

    assert_invalid_token(client.post("/auth/refresh", token=idle))


def test_D8_refresh_token_older_than_the_absolute_maximum(
    client: Client, live: Server, alice: Account
) -> None:
    tokens = login(client, alice.username, alice.password)
    issued = now() - 91 * 86400

    ancient = resign(tokens["refresh_token"], live.secret, iat=issued, nbf=issued)

    assert_invalid_token(client.post("/auth/refresh", token=ancient))


FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def revoke(client: Client, target: str, **credentials: Any) -> Any:
    """RFC 7009: ask to revoke `target`, authenticated by `credentials` (e.g. `token=`)."""
    return client.post("/oauth/revoke", body=f"token={target}", headers=FORM, **credentials)


def test_D9_revoke_endpoint_answers_200_for_any_token(
    client: Client, alice: Account, bob: Account, bob_tokens: dict[str, Any]
) -> None:
    spent = login(client, alice.username, alice.password)["access_token"]
    assert revoke(client, spent, token=spent).status == 200
    caller = bob_tokens["access_token"]
    other_session = login(client, bob.username, bob.password)["refresh_token"]
    successful = revoke(client, other_session, token=caller)

    replies = [
        revoke(client, target, token=caller)
        for target in ("garbage", "eyJhbGciOiJIUzI1NiJ9.e30.x", spent, other_session)
    ]

    assert_invalid_token(client.post("/auth/refresh", token=other_session))
    for reply in [successful, *replies]:
        assert reply.status == 200
        assert reply.raw == b""
        assert reply.header("Content-Type") is None
        assert reply.header("Cache-Control") == "no-store"


def test_D10_revoke_endpoint_refuses_an_unauthenticated_caller(
    client: Client, alice_tokens: dict[str, Any], bob_tokens: dict[str, Any]
) -> None:
    victim = alice_tokens["access_token"]

    unauthenticated = revoke(client, victim)
    by_someone_else = revoke(client, victim, token=bob_tokens["access_token"])

    assert unauthenticated.status == 401
    assert unauthenticated.json["error"] == "invalid_client"
    assert by_someone_else.status == 200
    assert by_someone_else.raw == b""
    assert client.get(ME, token=victim).status == 200


def test_D11_introspection_requires_client_auth_and_hides_inactive_tokens(
    client: Client, introspecting_client: tuple[str, str], alice: Account
) -> None:
    client_id, secret = introspecting_client
    revoked = login(client, alice.username, alice.password)["access_token"]
    assert client.post("/auth/logout", token=revoked).status == 204
    live_token = login(client, alice.username, alice.password)["access_token"]

    def introspect(token: str, **extra: Any) -> Any:
        body = f"token={token}&client_id={client_id}&client_secret={secret}"
        return client.post("/oauth/introspect", body=body, headers=FORM, **extra)

    unauthenticated = client.post("/oauth/introspect", body=f"token={live_token}", headers=FORM)
    inactive = [introspect(token) for token in ("garbage", revoked)]
    active = introspect(live_token)

    assert unauthenticated.status == 401
    assert unauthenticated.json["error"] == "invalid_client"
    for reply in inactive:
        assert reply.status == 200
        assert reply.json == {"active": False}
    assert active.status == 200
    assert active.json["active"] is True
    assert active.json["username"] == alice.username


def test_D12_token_responses_are_not_cacheable(client: Client, alice: Account) -> None:
    logged_in = client.post(
        "/auth/login", json_body={"username": alice.username, "password": alice.password}
    )
    refreshed = client.post("/auth/refresh", token=logged_in.json["refresh_token"])
    logged_out = client.post("/auth/logout", token=refreshed.json["access_token"])

    for reply in (logged_in, refreshed, logged_out):
        assert reply.status in (200, 204), reply.text
        assert reply.header("Cache-Control") == "no-store"
        assert reply.header("Pragma") == "no-cache"
