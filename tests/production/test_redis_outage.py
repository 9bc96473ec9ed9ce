"""When Redis goes away the service fails closed, says so, and recovers by itself."""

from __future__ import annotations

from tests.production.servers import call
from tests.production.test_multi_host import bearer, register_and_login


def test_an_outage_of_redis_gives_503s_never_200s_and_the_service_recovers_alone(
    start_host, production_env, private_redis
):
    host = start_host(production_env | {"REDIS_URL": private_redis.url})
    live = register_and_login(host, "frank")
    revoked = register_and_login(host, "grace")
    call(host.url + "/auth/logout", "POST", headers=bearer(revoked["access_token"]))
    assert call(host.url + "/auth/me", headers=bearer(live["access_token"])).status == 200

    private_redis.stop()
    during = [
        call(host.url + "/auth/token-info", headers=bearer(live["access_token"])) for _ in range(8)
    ]
    readiness = call(host.url + "/readyz")

    assert {reply.status for reply in during} == {503}
    assert during[0].headers["Content-Type"] == "application/problem+json"
    # The outage's own short Retry-After, never the rate limit's window (60 s), which would
    # keep an obedient client away long after Redis is back.
    assert {reply.headers["Retry-After"] for reply in during} == {"5"}
    assert readiness.status == 503
    assert readiness.body["checks"] == {"database": "ok", "redis": "unavailable"}

    private_redis.start()  # an empty Redis: the revocation mirror must be rebuilt

    assert call(host.url + "/auth/me", headers=bearer(live["access_token"])).status == 200
    assert call(host.url + "/auth/me", headers=bearer(revoked["access_token"])).status == 401
    # Said on the first successful use, not only when a probe happens to reach that worker.
    assert "redis available again" in host.log_path.read_text()
    assert call(host.url + "/readyz").status == 200
    log = host.log_path.read_text()
    assert log.count("redis unavailable") < len(during)
    assert "Traceback" not in log
