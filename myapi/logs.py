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
from typing import Any

from flask import Flask, Response, g, request

from myapi.clock import utcnow

request_log = logging.getLogger("myapi.request")
audit_log = logging.getLogger("myapi.audit")

_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": utcnow().isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(getattr(record, "fields", {}))
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


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


def current_request_id() -> str:
    return getattr(g, "request_id", "-")


def audit(event: str, **fields: Any) -> None:
    """Record a security event; `fields` must never hold a secret."""
    context = {"event": event, "request_id": current_request_id(), "ip": request.remote_addr}
    audit_log.info(event, extra={"fields": context | fields})


def _start_request() -> None:
    g.started = time.perf_counter()
    incoming = request.headers.get("X-Request-ID", "")
    g.request_id = incoming if _REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex


def _log_request(response: Response) -> Response:
    response.headers["X-Request-ID"] = current_request_id()
    status = getattr(g, "token_status", None)
    user = status.user.id if status is not None and status.user is not None else None
    fields = {
        "request_id": current_request_id(),
        "method": request.method,
        "path": request.path,
        "status": response.status_code,
        "duration_ms": round((time.perf_counter() - g.get("started", 0.0)) * 1000, 2),
        "user_id": user,
        "ip": request.remote_addr,
    }
    request_log.info("request", extra={"fields": fields})
    return response
