"""`/auth/grants`: the third-party apps a user has let act for them (connected apps).

Only the user's own login (or personal token) may list or withdraw them: an app's
delegated token is refused here (`require_scope` without `apps=True`).
"""

from __future__ import annotations

from typing import Any

from flask_smorest import abort

from myapi.auth.routes import blp
from myapi.auth.schemas import ConnectedAppSchema
from myapi.models import CLIENT_ID_FORMAT
from myapi.security.authorization import require_scope
from myapi.security.principal import caller
from myapi.services import delegation


@blp.route("/grants", methods=["GET"])
@require_scope()
@blp.response(200, ConnectedAppSchema(many=True))
def list_connected_apps() -> Any:
    """The apps the caller has allowed to act for them, most recently allowed first."""
    return delegation.connected_apps(caller().user_id)


@blp.route("/grants/<string(length=31):client_id>", methods=["DELETE"])
@require_scope()
@blp.response(204)
@blp.alt_response(404, response="NOT_FOUND")
def withdraw_connected_app(client_id: str) -> None:
    """Withdraw consent from an app: every token it holds for the caller ends at once (every
    worker, every host), and it must ask again. An app never allowed is a 404."""
    if not CLIENT_ID_FORMAT.fullmatch(client_id):
        abort(404, message="No such connected app.")
    if not delegation.withdraw_consent(caller().user_id, client_id):
        abort(404, message="No such connected app.")
