"""JSON logs: one line per request, and audit events with stable names.

Nothing here ever receives a token, a password or a hash: call sites pass
identifiers (user id, username, session id) and outcomes only, and the request
line logs the path without its query string.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from blinker import Namespace
from flask import Flask, Response, g, has_request_context, request

from myapi.security.principal import current_principal

request_log = logging.getLogger("myapi.request")
audit_log = logging.getLogger("myapi.audit")

# Observers (metrics) subscribe to these instead of parsing log lines.
signals = Namespace()
audit_recorded = signals.signal("audit-recorded")
dependency_failed = signals.signal("dependency-failed")

_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(getattr(record, "fields", {}))
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def emit(logger: logging.Logger, message: str, fields: dict[str, Any]) -> None:
    """Log one JSON line with `fields`.

    Through `makeRecord` and `handle`, the public pieces of `Logger.info`, so a line costs
    no walk up the stack to find the caller (`Logger._log` does one for every call, and
    no field here uses it): this runs once or more per request.
    """
    if logger.isEnabledFor(logging.INFO):
        record = logger.makeRecord(
            logger.name, logging.INFO, "", 0, message, (), None, extra={"fields": fields}
        )
        logger.handle(record)


def configure_logging(app: Flask) -> None:
    """JSON lines on stderr; werkzeug's request lines (which carry query strings) are off."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger("myapi")
    root.handlers[:] = [handler]
    root.setLevel(app.config["LOG_LEVEL"])
    root.propagate = False
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    app.before_request(_start_request)
    app.after_request(_log_request)


_OUTAGE_REPEAT_SECONDS = 60.0
_outages: dict[str, float] = {}


def report_outage(name: str, error: BaseException) -> None:
    """Log a failing dependency once, then at most once a minute per worker: no flood."""
    dependency_failed.send(name, error=error)
    now = time.monotonic()
    if now - _outages.get(name, -_OUTAGE_REPEAT_SECONDS) >= _OUTAGE_REPEAT_SECONDS:
        _outages[name] = now
        logging.getLogger("myapi.dependencies").error(
            "%s unavailable: %s", name, type(error).__name__
        )


def report_recovery(name: str) -> None:
    """Called on every successful use of a dependency: after an outage this process logged,
    the first one logs that it is back (cheap otherwise: one dictionary lookup)."""
    if name in _outages and _outages.pop(name, None) is not None:
        logging.getLogger("myapi.dependencies").warning("%s available again", name)


def current_request_id() -> str:
    return getattr(g, "request_id", "-")


def audit(event: str, **fields: Any) -> None:
    """Record a security event; `fields` must never hold a secret."""
    context = {"event": event}
    if has_request_context():
        context |= {"request_id": current_request_id(), "ip": request.remote_addr}
    else:
        context["source"] = "cli"
    emit(audit_log, event, context | fields)
    audit_recorded.send(event)


def _start_request() -> None:
    g.started = time.perf_counter()
    incoming = request.headers.get("X-Request-ID", "")
    g.request_id = incoming if _REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex


def _log_request(response: Response) -> Response:
    response.headers["X-Request-ID"] = current_request_id()
    principal = current_principal()
    fields = {
        "request_id": current_request_id(),
        "method": request.method,
        "path": request.path,
        "status": response.status_code,
        "duration_ms": round((time.perf_counter() - g.get("started", 0.0)) * 1000, 2),
        "user_id": principal.user_id if principal is not None else None,
        "ip": request.remote_addr,
    }
    if principal is not None and principal.client_id is not None:
        fields["client_id"] = principal.client_id
    emit(request_log, "request", fields)
    return response
