"""Liveness and readiness probes, exempt from rate limits."""

from __future__ import annotations

import logging
from typing import Any

import marshmallow as ma
from sqlalchemy import text

from myapi.errors import problem
from myapi.extensions import db
from myapi.openapi import Blueprint

blp = Blueprint("health", __name__, description="Probes for load balancers and orchestrators.")
log = logging.getLogger(__name__)


class HealthSchema(ma.Schema):
    status = ma.fields.String(required=True)
    checks = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.String())


@blp.route("/healthz", methods=["GET"])
@blp.response(200, HealthSchema)
def healthz() -> Any:
    """The process is up; touches no dependency."""
    return {"status": "ok"}


def dependency_checks() -> dict[str, str]:
    """Each backing service and whether it answers right now."""
    checks = {}
    try:
        db.session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # any failure means not ready; the type is enough to log
        db.session.rollback()
        log.error("readiness: database unavailable: %s", type(exc).__name__)
        checks["database"] = "unavailable"
    return checks


@blp.route("/readyz", methods=["GET"])
@blp.response(200, HealthSchema)
@blp.alt_response(503, response="SERVICE_UNAVAILABLE")
def readyz() -> Any:
    """Every backing service answers; 503 names the ones that do not."""
    checks = dependency_checks()
    if all(state == "ok" for state in checks.values()):
        return {"status": "ready", "checks": checks}
    down = ", ".join(name for name, state in checks.items() if state != "ok")
    return problem(503, f"Unavailable: {down}.", slug="not-ready", checks=checks)
