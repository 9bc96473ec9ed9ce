"""Catalogue group H: HTTP, proxy and configuration, as gunicorn and the app answer them.

The nginx-level halves of H6 and H7 cannot run without nginx; what is checked here is
gunicorn's own behaviour, which is what stands behind the proxy (docs/security.md).
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.security.expect import assert_generic_problem
from tests.security.live import Client, Server, raw_exchange

ME = "/auth/me"


def test_H1_write_method_on_a_read_only_route_is_405_with_allow(
    client: Client, alice_tokens: dict[str, Any]
) -> None:
    reply = client.put(ME, json_body={}, token=alice_tokens["access_token"])

    assert_generic_problem(reply, 405)
    assert "GET" in reply.header("Allow") and "PUT" not in reply.header("Allow")


@pytest.mark.parametrize("method", ["TRACE", "FOO", "CONNECT", "PROPFIND"])
def test_H1_unsupported_methods_are_refused(client: Client, method: str) -> None:
    reply = client.request(method, ME)

    assert reply.status in (400, 405, 501), reply.status
    if reply.status == 405:
        assert "TRACE" not in reply.header("Allow")
    assert reply.header("Content-Type", "").split(";")[0] != "message/http"


def test_H1_trace_on_the_root_is_refused(client: Client) -> None:
    reply = client.request("TRACE", "/")

    assert reply.status in (404, 405), reply.status
    assert b"TRACE / HTTP" not in reply.raw


@pytest.mark.parametrize("path", ["/console", "/debug", "/docs", "/swagger-ui", "/admin", "/.env"])
def test_H2_no_debug_console_or_undeclared_docs(client: Client, path: str) -> None:
    reply = client.get(path)

    assert_generic_problem(reply, 404)
    assert "Werkzeug" not in reply.text and "Traceback" not in reply.text


def test_H2_the_openapi_document_is_served_on_purpose(client: Client) -> None:
    reply = client.get("/openapi.json")

    assert reply.status == 200
    assert reply.json["openapi"].startswith("3.")


@pytest.mark.parametrize(
    ("method", "path", "authenticated", "status"),
    [
        ("GET", ME, True, 200),
        ("GET", ME, False, 401),
        ("GET", "/nowhere", False, 404),
        ("POST", "/api/v1/notes", True, 201),
        ("GET", "/openapi.json", False, 200),
    ],
)
def test_H3_every_response_carries_the_security_headers(
    client: Client,
    alice_tokens: dict[str, Any],
    method: str,
    path: str,
    authenticated: bool,
    status: int,
) -> None:
    token = alice_tokens["access_token"] if authenticated else None
    body = {"title": "t"} if method == "POST" else None

    reply = client.request(method, path, json_body=body, token=token)

    assert reply.status == status
    assert reply.content_type in ("application/json", "application/problem+json")
    assert reply.header("X-Content-Type-Options") == "nosniff"
    assert reply.header("Cache-Control") == "no-store"
    assert "frame-ancestors 'none'" in reply.header("Content-Security-Policy")
    hsts = reply.header("Strict-Transport-Security")
    assert hsts and int(hsts.split("max-age=")[1].split(";")[0]) >= 31_536_000


@pytest.mark.parametrize("path", [ME, "/auth/login", "/api/v1/notes", "/openapi.json"])
def test_H4_plain_http_to_an_api_path_is_refused_without_redirect(
    client: Client, path: str
) -> None:
    reply = client.plain_http().get(path)

    assert_generic_problem(reply, 403)
    assert reply.header("Location") is None
    assert reply.header("Strict-Transport-Security") is None


def test_H4_hsts_is_sent_on_the_https_origin(client: Client) -> None:
    assert client.get("/healthz").header("Strict-Transport-Security")


def test_H5_client_sent_forwarding_headers_are_not_believed(
    direct: Server, alice_tokens: dict[str, Any]
) -> None:
    spoofing = direct.as_client().with_headers(
        {
            "X-Forwarded-Proto": "https",
            "X-Forwarded-Host": "evil.example",
            "X-Forwarded-For": "10.0.0.1",
            "X-Real-IP": "10.0.0.1",
            "Forwarded": "for=10.0.0.1;proto=https;host=evil.example",
        }
    )

    reply = spoofing.get(ME, token=alice_tokens["access_token"])

    assert reply.status == 200
    assert reply.header("Strict-Transport-Security") is None  # still plain HTTP to the app
    assert "evil.example" not in reply.text + str(reply.headers)


@pytest.mark.parametrize("header", ["X-User-ID", "X-User", "X-Remote-User", "X-Auth-User"])
def test_H5_identity_headers_authenticate_nobody(
    direct: Server, alice_tokens: dict[str, Any], header: str
) -> None:
    client = direct.as_client()
    me = client.get(ME, token=alice_tokens["access_token"]).json

    anonymous = client.get(ME, headers={header: "1"})
    claimed = client.get(ME, headers={header: "1"}, token=alice_tokens["access_token"])

    assert anonymous.status == 401
    assert claimed.json["id"] == me["id"]


@pytest.mark.parametrize("name", ["script_name", "SCRIPT_NAME", "Script-Name", "path_info"])
def test_H6_underscore_headers_cannot_reroute_a_request(direct: Server, name: str) -> None:
    # Honoured, `script_name: /x` would strip /x and route /x/healthz to /healthz.
    reply = direct.as_client().get("/x/healthz", headers={name: "/x"})

    assert reply.status == 404


@pytest.mark.parametrize(
    "framing",
    [
        b"Content-Length: 4\r\nTransfer-Encoding: chunked\r\n",
        b"Transfer-Encoding: chunked\r\nContent-Length: 4\r\n",
        b"Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n",
        b"Transfer-Encoding: xchunked\r\n",
        b"Content-Length: 4\r\nContent-Length: 40\r\n",
    ],
    ids=["CL.TE", "TE.CL", "TE.TE", "obfuscated-TE", "CL.CL"],
)
def test_H7_ambiguous_framing_is_a_400_and_nothing_is_smuggled(
    direct: Server, framing: bytes
) -> None:
    request = (
        b"POST /auth/logout HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        + framing
        + b"\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    )

    answer = raw_exchange(direct.port, request)

    # 400, or 501 for a transfer coding gunicorn does not implement; either way it closes.
    assert answer[:12] in (b"HTTP/1.1 400", b"HTTP/1.1 501"), answer[:200]
    assert answer.count(b"HTTP/1.1 ") == 1
    assert b"Connection: close" in answer
    assert b"Content-Type: application/problem+json" in answer


@pytest.mark.parametrize(
    ("method", "path", "headers", "status"),
    [
        ("GET", "/healthz?" + "a" * 5000, {}, 414),
        ("GET", "/healthz", {f"X-Filler-{n}": "a" for n in range(60)}, 431),
        ("GET", "/healthz", {"X-Filler": "a" * 9000}, 431),
        ("G@T", "/healthz", {}, 400),
    ],
    ids=["long-request-line", "too-many-header-fields", "long-header-field", "malformed-method"],
)
def test_H7_requests_gunicorn_refuses_itself_are_answered_as_problems(
    direct: Server, method: str, path: str, headers: dict[str, str], status: int
) -> None:
    reply = direct.as_client().request(method, path, headers=headers)

    assert_generic_problem(reply, status)
    assert reply.header("X-Content-Type-Options") == "nosniff"
    assert reply.header("Cache-Control") == "no-store"
