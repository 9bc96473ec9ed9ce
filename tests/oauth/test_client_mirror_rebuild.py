"""After Redis loses its data, a client's revocation state is rebuilt from the database: what
was revoked stays revoked, what lives keeps working."""

from __future__ import annotations

from collections.abc import Callable

import redis
from flask.testing import FlaskClient

from myapi.services.clients import find_client, set_client_active, set_client_scope
from tests.helpers.http import bearer
from tests.helpers.oauth import REVOKE, Credentials

TOKEN_INFO = "/auth/token-info"


def test_a_live_client_token_works_after_redis_lost_everything(
    client: FlaskClient,
    redis_mirror: redis.Redis,
    reader: Credentials,
    client_token: Callable[..., str],
) -> None:
    token = client_token(reader)
    assert client.get(TOKEN_INFO, headers=bearer(token)).status_code == 200

    redis_mirror.flushdb()

    assert client.get(TOKEN_INFO, headers=bearer(token)).json["scope"] == "notes:read users:read"


def test_a_revoked_client_token_stays_revoked_after_redis_lost_everything(
    client: FlaskClient,
    redis_mirror: redis.Redis,
    reader: Credentials,
    client_token: Callable[..., str],
) -> None:
    token = client_token(reader)
    assert client.post(REVOKE, data={"token": token}, headers=reader.basic).status_code == 200

    redis_mirror.flushdb()

    assert client.get(TOKEN_INFO, headers=bearer(token)).status_code == 401


def test_a_disabled_or_narrowed_client_stays_so_after_redis_lost_everything(
    client: FlaskClient,
    redis_mirror: redis.Redis,
    make_client: Callable[..., Credentials],
    client_token: Callable[..., str],
) -> None:
    disabled, narrowed = make_client("notes:read"), make_client("notes:read users:read")
    disabled_token, narrowed_token = client_token(disabled), client_token(narrowed)
    set_client_active(find_client(disabled.client_id), False)
    set_client_scope(find_client(narrowed.client_id), "notes:read")

    redis_mirror.flushdb()

    assert client.get(TOKEN_INFO, headers=bearer(disabled_token)).status_code == 401
    assert client.get(TOKEN_INFO, headers=bearer(narrowed_token)).json["scope"] == "notes:read"
