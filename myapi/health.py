"""Liveness and readiness probes, exempt from rate limits."""

from __future__ import annotations

import json
from typing import Any

import marshmallow as ma
from flask import Response, current_app
from sqlalchemy import text

from myapi.errors import problem
from myapi.extensions import db
from myapi.logs import report_outage, report_recovery
from myapi.openapi import Blueprint
from myapi.security.key_ring import check_signing
from myapi.security.revocation import revocation_store

blp = Blueprint("health", __name__, description="Probes for load balancers and orchestrators.")


class HealthSchema(ma.Schema):
    status = ma.fields.String(required=True)
    checks = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.String())


#: The liveness answer never changes; probes call it often, so it is encoded once.
_ALIVE = json.dumps({"status": "ok"}).encode()


@blp.route("/healthz", methods=["GET"])
@blp.response(200, HealthSchema)
def healthz() -> Response:
    """The process is up; touches no dependency."""
    return Response(_ALIVE, mimetype="application/json")


def check_dependencies() -> dict[str, str]:
    """Ask every configured backing service to answer, now; in keys mode, also sign and
    verify a probe token, since a host that cannot issue tokens should get no logins."""
    probes = {"database": lambda: db.session.execute(text("SELECT 1"))}
    if current_app.config["REDIS_URL"]:
        probes["redis"] = revocation_store().ping
    if current_app.config["TOKEN_SIGNING"] == "keys":
        probes["signing"] = check_signing
    checks: dict[str, str] = {}
    for name, probe in probes.items():
        try:
            probe()
        except Exception as exc:  # any failure means not ready; only its type is logged
            db.session.rollback()
            report_outage(name, exc)
            checks[name] = "unavailable"
        else:
            report_recovery(name)
            checks[name] = "ok"
    return checks


@blp.route("/readyz", methods=["GET"])
@blp.response(200, HealthSchema)
@blp.alt_response(503, response="SERVICE_UNAVAILABLE")
def readyz() -> Any:
    """Every backing service answers; 503 names the ones that do not."""
    checks = check_dependencies()
    if all(state == "ok" for state in checks.values()):
        return {"status": "ready", "checks": checks}
    down = ", ".join(name for name, state in checks.items() if state != "ok")
    return problem(503, f"Unavailable: {down}.", slug="not-ready", checks=checks)
