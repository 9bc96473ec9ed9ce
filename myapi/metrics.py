"""Prometheus metrics at `GET /metrics`, served only when `METRICS_ENABLED` is true.

The endpoint has no authentication of its own: it tells traffic volumes and error rates,
not data, and must be reachable only from the monitoring network (the reverse proxy
denies it to everyone else; see docs/deploy.md). It is exempt from rate limits, so a
scraper is never throttled, and it is a plain Flask route, kept out of the OpenAPI
document, which describes the public API.

Every label has a bounded set of values: the endpoint is the URL rule that matched (or
"unmatched"), never the raw path, whose ids would start a new time series per note; an
HTTP method outside the standard ones counts as "other".

Under gunicorn each worker is its own process with its own counters. When
`PROMETHEUS_MULTIPROC_DIR` is set (gunicorn.conf.py sets it whenever metrics are on),
prometheus_client has every worker write its samples to files there, and a scrape adds up
the files of every worker, living or dead.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from typing import Any

from flask import Blueprint, Flask, Response, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy.exc import SQLAlchemyError

from myapi.config import ConfigError
from myapi.extensions import db, limiter
from myapi.logs import audit_recorded, dependency_failed
from myapi.services import outbox

MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"
UNMATCHED = "unmatched"
OTHER_METHOD = "other"
_STANDARD_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

# Created once per process, at import: every app built in the process shares them, where
# creating them again (a second app, as in the tests) would raise "Duplicated timeseries".
HTTP_REQUESTS = Counter(
    "myapi_http_requests_total",
    "HTTP requests answered, by URL rule, method and status code.",
    ["endpoint", "method", "status"],
)
HTTP_REQUEST_DURATION = Histogram(
    "myapi_http_request_duration_seconds",
    "Time from the first before-request hook to the response, by URL rule and method.",
    ["endpoint", "method"],
)
AUTH_EVENTS = Counter(
    "myapi_auth_events_total",
    "Audit events recorded (login_failed, token_rejected, ...), by event name.",
    ["event"],
)
DEPENDENCY_ERRORS = Counter(
    "myapi_dependency_errors_total",
    "Failures to reach a backing service (database, redis), by dependency.",
    ["dependency"],
)

blp = Blueprint("metrics", __name__)


@blp.get("/metrics")
def metrics() -> Response:
    """Every metric of this process, or of every worker in multiprocess mode, and the
    mail outbox's backlog as the database has it now."""
    outbox_registry = CollectorRegistry()
    outbox_registry.register(OutboxCollector())
    body = generate_latest(_registry()) + generate_latest(outbox_registry)
    return Response(body, content_type=CONTENT_TYPE_LATEST)


class OutboxCollector(Collector):
    """Queued, unsent email: read from the database at scrape time (one query), so every
    process and host reports the same shared backlog; nothing when the database is down."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        try:
            pending, oldest = outbox.backlog()
        except SQLAlchemyError:
            db.session.rollback()
            return
        yield GaugeMetricFamily(
            "myapi_mail_outbox_pending", "Email messages queued and not yet sent.", pending
        )
        yield GaugeMetricFamily(
            "myapi_mail_outbox_oldest_seconds",
            "Age of the oldest unsent email message (0 when none waits).",
            oldest,
        )


def _registry() -> CollectorRegistry:
    """In multiprocess mode, a fresh registry that reads every worker's files, per scrape."""
    if not os.environ.get(MULTIPROCESS_DIR):
        return REGISTRY
    registry = CollectorRegistry()
    MultiProcessCollector(registry)
    return registry


def register_metrics(app: Flask) -> None:
    """Serve /metrics and record requests and events, only if `METRICS_ENABLED` is true.

    Otherwise nothing is registered: /metrics is a 404 like any unknown path. Call it right
    after `configure_logging`, so the timer starts before any hook that may answer early.
    Calling it twice on one app is harmless.
    """
    if not app.config["METRICS_ENABLED"] or blp.name in app.blueprints:
        return
    _check_multiprocess_dir()
    # Connecting the same receiver again (a second app in the process) is a no-op.
    audit_recorded.connect(_count_audit_event)
    dependency_failed.connect(_count_dependency_failure)
    app.before_request(_start_timer)
    app.after_request(_record_request)
    limiter.exempt(blp)
    app.register_blueprint(blp)


def _check_multiprocess_dir() -> None:
    """Refuse to start with a multiprocess directory the workers cannot write to.

    Otherwise the first recorded request would fail, and with it every request after it.
    """
    path = os.environ.get(MULTIPROCESS_DIR)
    if path and not (os.path.isdir(path) and os.access(path, os.W_OK | os.X_OK)):
        raise ConfigError(f"{MULTIPROCESS_DIR}={path!r} is not a writable directory")


def _start_timer() -> None:
    g.metrics_started = time.perf_counter()


def _record_request(response: Response) -> Response:
    rule = request.url_rule
    endpoint = rule.rule if rule is not None else UNMATCHED
    method = request.method if request.method in _STANDARD_METHODS else OTHER_METHOD
    HTTP_REQUESTS.labels(endpoint=endpoint, method=method, status=str(response.status_code)).inc()
    started = g.pop("metrics_started", None)
    # Absent only if a hook registered before ours answered early; such a response is
    # counted but not timed.
    if started is not None:
        HTTP_REQUEST_DURATION.labels(endpoint=endpoint, method=method).observe(
            time.perf_counter() - started
        )
    return response


def _count_audit_event(event: str, **_: Any) -> None:
    AUTH_EVENTS.labels(event=event).inc()


def _count_dependency_failure(dependency: str, **_: Any) -> None:
    DEPENDENCY_ERRORS.labels(dependency=dependency).inc()
