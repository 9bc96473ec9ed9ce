"""`/auth/tokens`: personal access tokens for scripts; the rules are in services.personal_tokens."""

from __future__ import annotations

from typing import Any

from flask_smorest import abort

from myapi.auth.routes import blp
from myapi.auth.schemas import (
    NewPersonalTokenSchema,
    PersonalTokenCreateSchema,
    PersonalTokenSchema,
)
from myapi.openapi import ROW_ID
from myapi.security.authorization import require_scope
from myapi.security.principal import caller
from myapi.security.scopes import format_scope
from myapi.services import personal_tokens


@blp.route("/tokens", methods=["POST"])
@require_scope(fresh=True)
@blp.arguments(PersonalTokenCreateSchema)
@blp.response(201, NewPersonalTokenSchema)
@blp.alt_response(409, response="CONFLICT")
def create_personal_token(data: dict[str, Any]) -> Any:
    """Make a personal access token for a script; the token is shown only in this answer.

    Needs a fresh password login: a PAT is a long-lived credential, and a PAT itself is
    never fresh, so a PAT cannot make PATs. The scope may not exceed the effective scope
    of the token making it (itself never more than the caller's role allows).
    """
    principal = caller()
    try:
        record, token = personal_tokens.issue(principal.user_id, **data, within=principal.scopes)
    except personal_tokens.ScopeBeyondGrant as error:
        excess = format_scope(error.excess)
        abort(422, messages={"json": {"scope": [f"Beyond what this token may grant: {excess}."]}})
    except personal_tokens.TooManyTokens:
        limit = personal_tokens.MAX_LIVE_TOKENS
        abort(409, message=f"You already have {limit} live tokens; revoke one first.")
    return {"token": token} | {
        name: getattr(record, name) for name in ("id", "name", "scope", "created_at", "expires_at")
    }


@blp.route("/tokens", methods=["GET"])
@require_scope()
@blp.response(200, PersonalTokenSchema(many=True))
def list_personal_tokens() -> Any:
    """The caller's live personal access tokens, newest first (never the tokens themselves)."""
    return personal_tokens.live_tokens(caller().user_id)


@blp.route(f"/tokens/<{ROW_ID}:token_id>", methods=["DELETE"])
@require_scope()
@blp.response(204)
@blp.alt_response(404, response="NOT_FOUND")
def revoke_personal_token(token_id: int) -> None:
    """Revoke one of the caller's tokens, at once; anyone else's is a 404."""
    if not personal_tokens.revoke(token_id, caller().user_id, reason="deleted"):
        abort(404, message="No such token.")
