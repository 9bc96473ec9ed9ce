"""Every error leaves the service as RFC 9457 problem+json, built by `problem()`."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from flask import Flask, Response, json
from redis.exceptions import RedisError
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DataError, DBAPIError, InterfaceError, OperationalError
from sqlalchemy.orm.exc import ObjectDeletedError, StaleDataError
from werkzeug.exceptions import HTTPException

from myapi.logs import report_outage, report_recovery

PROBLEM_MIMETYPE = "application/problem+json"
PROBLEM_TYPE_BASE = "urn:myapi:problem:"

log = logging.getLogger(__name__)


def problem_body(
    status: int,
    detail: str | None = None,
    *,
    slug: str | None = None,
    title: str | None = None,
    errors: Mapping[str, list[str]] | None = None,
    **extensions: Any,
) -> dict[str, Any]:
    """A problem's members; `slug` names a documented problem type, else about:blank."""
    phrase = HTTPStatus(status).phrase
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + slug if slug else "about:blank",
        "title": title or phrase,
        "status": status,
        "detail": detail or phrase,
    }
    if errors is not None:
        body["errors"] = dict(errors)
    body.update(extensions)
    return body


def problem(
    status: int,
    detail: str | None = None,
    *,
    headers: Mapping[str, str] | None = None,
    **members: Any,
) -> Response:
    """Build a problem+json response (`problem_body`'s members)."""
    body = problem_body(status, detail, **members)
    response = Response(json.dumps(body), status=status, mimetype=PROBLEM_MIMETYPE)
    response.headers.update(headers or {})
    return response


def field_errors(messages: Mapping[str, Any]) -> dict[str, list[str]]:
    """Flatten webargs' {location: {field: [..]}} into {field: [messages]}."""
    flat: dict[str, list[str]] = {}

    def collect(prefix: str, value: Any) -> None:
        if isinstance(value, Mapping):
            for key, inner in value.items():
                collect(f"{prefix}.{key}" if prefix else str(key), inner)
        elif isinstance(value, list | tuple):
            for item in value:
                collect(prefix, item)
        else:
            flat.setdefault(prefix or "_schema", []).append(str(value))

    for location_messages in messages.values():
        collect("", location_messages)
    return flat


# Headers of an HTTP error that a client needs in the problem response as well.
_KEPT_HEADERS = ("Allow", "Retry-After", "WWW-Authenticate")


def handle_http_exception(error: HTTPException) -> Response:
    status = error.code or 500
    headers = {name: value for name, value in error.get_headers() if name in _KEPT_HEADERS}
    data = getattr(error, "data", None) or {}
    if status == 422 and "messages" in data:
        return problem(
            422,
            "The request body or parameters failed validation.",
            slug="validation-error",
            errors=field_errors(data["messages"]),
            headers=headers,
        )
    if status == 429:
        return problem(
            429,
            "Too many requests; retry after the number of seconds in Retry-After.",
            slug="rate-limited",
            headers=headers,
        )
    if "messages" in data:
        detail = " ".join(" ".join(msgs) for msgs in field_errors(data["messages"]).values())
    else:
        detail = data.get("message") if isinstance(data.get("message"), str) else None
    # An exception of our own names its documented problem type (docs/api.md).
    slug = getattr(error, "problem_slug", None)
    # `abort(409, errors={field: [...]})`: which fields a conflict is about.
    errors = data.get("errors") if isinstance(data.get("errors"), dict) else None
    errors = errors or None
    detail = detail or _generic_detail(error)
    return problem(status, detail, slug=slug, errors=errors, headers=headers)


def _generic_detail(error: HTTPException) -> str:
    """Werkzeug's own descriptions are generic and safe; never an exception's text."""
    return (error.description or HTTPStatus(error.code or 500).phrase).strip()


def service_unavailable(name: str, error: BaseException) -> Response:
    """Fail closed: without the database or Redis no token can be judged, so none is accepted."""
    report_outage(name, error)
    return problem(
        503,
        "A backing service is unavailable; retry shortly.",
        slug="service-unavailable",
        headers={"Retry-After": "5"},
    )


@event.listens_for(Engine, "after_cursor_execute")
def _database_answered(*_statement: Any) -> None:
    """The first statement that succeeds after an outage logs "database available again"."""
    report_recovery("database")


def handle_database_error(error: DBAPIError) -> Response:
    if error.connection_invalidated or isinstance(error, OperationalError | InterfaceError):
        return service_unavailable("database", error)
    if isinstance(error, DataError):
        # The database refused a value the client sent (PostgreSQL stores no NUL character):
        # bad input that validation let through, so a 400, never a 500. Only the type is logged.
        log.warning("database refused a value: %s", type(error.orig).__name__)
        return problem(400, "The request contains a value that cannot be stored or looked up.")
    return handle_unexpected_error(error)


def handle_vanished_row(error: ObjectDeletedError | StaleDataError) -> Response:
    """A concurrent request deleted the row this one changed or read back (a note deleted
    while it was being patched): the resource is gone, as a request after the delete finds."""
    return problem(404, "It was deleted by another request in the meantime.")


def handle_redis_error(error: RedisError) -> Response:
    return service_unavailable("redis", error)


def handle_unexpected_error(error: Exception) -> Response:
    log.exception("unhandled error: %s", type(error).__name__)
    return problem(500, "An unexpected error occurred; it has been logged.")


def register_error_handlers(app: Flask) -> None:
    """Registered after the extensions so these replace their JSON shapes."""
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(DBAPIError, handle_database_error)
    app.register_error_handler(ObjectDeletedError, handle_vanished_row)
    app.register_error_handler(StaleDataError, handle_vanished_row)
    app.register_error_handler(RedisError, handle_redis_error)
    app.register_error_handler(Exception, handle_unexpected_error)
