"""HTTP endpoints of accounts and the token lifecycle; the rules live in `myapi.services`."""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, request
from flask_smorest import abort

from myapi.auth.browser import clears_refresh_cookie, deliver_tokens
from myapi.auth.schemas import (
    AcceptedSchema,
    EmailChangeSchema,
    ForgotPasswordSchema,
    LoginSchema,
    PasswordChangeSchema,
    PasswordResetSchema,
    RegisterSchema,
    SessionSchema,
    TokenInfoSchema,
    TokenPairSchema,
    UserSchema,
    VerifyEmailSchema,
)
from myapi.errors import problem
from myapi.extensions import limiter
from myapi.models import User
from myapi.openapi import Blueprint
from myapi.ratelimits import address_key, client_ip, configured_limit, refund_hit
from myapi.security.authorization import require_refresh_token, require_scope
from myapi.security.passwords import HashingBusy
from myapi.security.policy import bearer_challenge
from myapi.security.principal import caller
from myapi.services import accounts, recovery, sessions, verification

blp = Blueprint("auth", __name__, url_prefix="/auth", description="Accounts and tokens.")


def _text_in_body(member: str) -> str | None:
    """A JSON body's `member` when it is non-blank text, else None.

    A limiter's key is made before the schema has read the body, so the body may be anything;
    a request that names no account is counted by its address instead.
    """
    body = request.get_json(silent=True)
    value = body.get(member) if isinstance(body, dict) else None
    return value if isinstance(value, str) and value.strip() else None


def login_account_key() -> str:
    """Count login attempts per account, whichever address they come from."""
    identifier = _text_in_body("username")
    key = accounts.attempt_key(identifier) if identifier else None
    return key or address_key()


def caller_account() -> User:
    """The caller's user row, for the changes that need it (one query, on demand)."""
    user = accounts.get_user(caller().user_id)
    if user is None:
        abort(404, message="No such account.")
    return user


@blp.route("/register", methods=["POST"])
@limiter.limit(configured_limit("REGISTER_LIMIT_PER_IP"), key_func=client_ip)
@blp.arguments(RegisterSchema)
@blp.response(201, UserSchema)
@blp.alt_response(409, response="CONFLICT")
def register(data: dict[str, str]) -> Any:
    """Create an account with the `user` role."""
    try:
        return accounts.register(data["username"], data["email"], data["password"])
    except accounts.AccountConflict as conflict:
        taken = {"username": ["This username is taken."], "email": ["This email is taken."]}
        abort(
            409,
            message="An account with this username or email already exists.",
            errors={field: taken[field] for field in conflict.fields},
        )


def _login_failed() -> Response:
    """One answer for unknown user, wrong password and disabled account."""
    return problem(
        401,
        "The username or password is incorrect.",
        slug="invalid-credentials",
        headers={"WWW-Authenticate": bearer_challenge()},
    )


@blp.route("/login", methods=["POST"])
@limiter.limit(configured_limit("LOGIN_LIMIT_PER_IP"), key_func=client_ip)
# Counted before the password is checked, in the same atomic step as the check, so no more
# guesses than the limit ever reach a password, however many hosts take them at once. An
# attempt that was not a wrong guess (a success, a 503 before any hash) is given back.
@limiter.limit(configured_limit("LOGIN_LIMIT_PER_ACCOUNT"), key_func=login_account_key)
@blp.arguments(LoginSchema)
@blp.response(200, TokenPairSchema)
@blp.alt_response(401, response="UNAUTHORIZED")
@blp.alt_response(403, response="FORBIDDEN")
@deliver_tokens
def login(credentials: dict[str, str]) -> Any:
    """Exchange a username (or email) and password for an access and a refresh token."""
    try:
        pair = sessions.log_in(
            credentials["username"],
            credentials["password"],
            credentials.get("scope"),
            sessions.Device.of(request),
        )
    except sessions.LoginRefused:
        return _login_failed()
    except sessions.EmailNotVerified:
        # The right password: not a guess to count against the account.
        refund_hit(login_account_key())
        return problem(
            403,
            "Verify your email address before logging in: follow the link sent to it. "
            "A new link is sent if the last one is more than 10 minutes old.",
            slug="email-not-verified",
        )
    except (sessions.NoGrantableScope, HashingBusy) as outcome:
        refund_hit(login_account_key())
        if isinstance(outcome, HashingBusy):
            raise
        abort(422, messages={"json": {"scope": ["None of these scopes can be granted."]}})
    refund_hit(login_account_key())
    return pair


@blp.route("/refresh", methods=["POST"])
@require_refresh_token
@blp.response(200, TokenPairSchema)
@deliver_tokens
def refresh() -> Any:
    """Rotate: present the refresh token as Bearer, get a new pair; the old token dies.

    The new pair's scope is the session's, narrowed to what the account may hold now.
    """
    return sessions.rotate(caller())


@blp.route("/logout", methods=["POST"])
@require_scope(refresh_cookie=True)
@blp.response(204)
@clears_refresh_cookie
def logout() -> None:
    """Revoke this access token and its session's refresh token.

    A browser app may instead send the refresh cookie with `X-CSRF-Token` and no
    Authorization header (docs/browser.md): an expired access token does not stop a logout.
    """
    sessions.end_session(caller())


@blp.route("/logout-all", methods=["POST"])
@require_scope(refresh_cookie=True)
@blp.response(204)
@clears_refresh_cookie
def logout_all() -> None:
    """Revoke every session of the caller, on every device (with a bearer token, or the
    browser's refresh cookie and `X-CSRF-Token`, as for logout)."""
    accounts.revoke_all_sessions(caller_account())


@blp.route("/me", methods=["GET"])
@require_scope()
@blp.response(200, UserSchema)
def me() -> Any:
    """The caller's account (read with the token's revocation check: no query of its own)."""
    return caller().account


@blp.route("/token-info", methods=["GET"])
@require_scope(clients=True)
@blp.response(200, TokenInfoSchema)
def token_info() -> Any:
    """The presented access token as the service sees it now: its effective scope, never
    more than its holder may hold today."""
    principal = caller()
    return {
        "sub": principal.subject,
        "kind": principal.kind.value,
        "scope": principal.scope,
        "sid": principal.session_id,
        "iat": principal.issued_at,
        "exp": principal.expires_at,
        "fresh": principal.fresh,
    }


@blp.route("/password", methods=["PUT"])
@require_scope(fresh=True)
@blp.arguments(PasswordChangeSchema)
@blp.response(204)
def change_password(data: dict[str, str]) -> None:
    """Change the password (fresh login required); every other session is revoked."""
    try:
        accounts.change_password(
            caller_account(),
            data["current_password"],
            data["new_password"],
            keep_session=caller().session_id,
        )
    except accounts.WrongPassword:
        abort(422, messages={"json": {"current_password": ["Incorrect password."]}})


@blp.route("/sessions", methods=["GET"])
@require_scope()
@blp.response(200, SessionSchema(many=True))
def list_sessions() -> Any:
    """The caller's live sessions; `current` marks the one this token belongs to."""
    principal = caller()
    return sessions.live_sessions(principal.user_id, principal.session_id)


@blp.route("/sessions/<string(length=32):session_id>", methods=["DELETE"])
@require_scope()
@blp.response(204)
@blp.alt_response(404, response="NOT_FOUND")
def revoke_session(session_id: str) -> None:
    """Revoke one of the caller's sessions; anyone else's is a 404."""
    if not sessions.revoke_own_session(caller().user_id, session_id):
        abort(404, message="No such session.")


def forgot_password_email_key() -> str:
    """Count reset requests per address asked about, whoever asks and whether or not it
    belongs to an account (so the limit itself tells nothing)."""
    email = _text_in_body("email")
    if email is None or len(email) > accounts.MAX_IDENTIFIER_LENGTH:
        return address_key()
    return "reset-email:" + accounts.normalize_identifier(email)


def require_account_emails() -> None:
    """The email flows exist only with ACCOUNT_EMAILS on (Production: with SMTP configured)."""
    if not current_app.config["ACCOUNT_EMAILS"]:
        abort(404, message="Account emails are not enabled on this server.")


#: The one answer to a reset request, whether or not the address is an account's.
RESET_REQUESTED = {
    "detail": "If an account has this email address, a link to reset its password has been "
    "sent to it."
}


@blp.route("/password/forgot", methods=["POST"])
@limiter.limit(configured_limit("FORGOT_PASSWORD_LIMIT_PER_IP"), key_func=client_ip)
@limiter.limit(
    configured_limit("FORGOT_PASSWORD_LIMIT_PER_EMAIL"), key_func=forgot_password_email_key
)
@blp.arguments(ForgotPasswordSchema)
@blp.response(202, AcceptedSchema)
@blp.alt_response(404, response="NOT_FOUND")
def forgot_password(data: dict[str, str]) -> Any:
    """Ask for a password reset link by email.

    The answer is the same whether or not the address belongs to an account: the link is
    only queued here (for an active account), and sent after the answer.
    """
    require_account_emails()
    recovery.request_password_reset(data["email"])
    return RESET_REQUESTED


@blp.route("/password/reset", methods=["POST"])
@limiter.limit(configured_limit("RESET_PASSWORD_LIMIT_PER_IP"), key_func=client_ip)
@blp.arguments(PasswordResetSchema)
@blp.response(204)
@blp.alt_response(400, response="BAD_REQUEST")
@blp.alt_response(404, response="NOT_FOUND")
def reset_password(data: dict[str, str]) -> Any:
    """Set a new password with the token from a reset link.

    Every session and personal access token of the account ends, and a notice goes to its
    address. An unknown, used, superseded or expired token is one and the same 400.
    """
    require_account_emails()
    try:
        recovery.reset_password(data["token"], data["new_password"])
    except recovery.InvalidResetToken:
        return problem(
            400,
            "This reset link is invalid or has expired; ask for a new one.",
            slug="invalid-reset-token",
        )
    return None


@blp.route("/email/verify", methods=["POST"])
@limiter.limit(configured_limit("RESET_PASSWORD_LIMIT_PER_IP"), key_func=client_ip)
@blp.arguments(VerifyEmailSchema)
@blp.response(204)
@blp.alt_response(400, response="BAD_REQUEST")
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
def verify_email(data: dict[str, str]) -> Any:
    """Verify the account's email address with the token from the emailed link.

    No login needed: the link may be opened on another device. An unknown, used,
    superseded or expired token, or one sent to an address the account no longer has, is
    one and the same 400. A link from an email change moves the account to the new address;
    409 if another account has taken it since.
    """
    require_account_emails()
    try:
        verification.verify_email(data["token"])
    except verification.AddressTaken:
        abort(409, message="An account with this email address already exists.")
    except verification.InvalidVerificationToken:
        return problem(
            400,
            "This verification link is invalid or has expired; ask for a new one.",
            slug="invalid-verification-token",
        )
    return None


@blp.route("/email/resend", methods=["POST"])
# Per caller (the account whose token this is), the limiter's default key.
@limiter.limit(configured_limit("VERIFY_RESEND_LIMIT"))
@require_scope()
@blp.response(202, AcceptedSchema)
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
def resend_verification() -> Any:
    """Send a new link to verify the caller's email address; older links stop working."""
    require_account_emails()
    try:
        verification.resend_verification(caller_account())
    except verification.AlreadyVerified:
        abort(409, message="This email address is verified already.")
    return {"detail": "A new verification link has been sent to your email address."}


@blp.route("/email", methods=["PUT"])
# Per caller: each request sends an email to an address of the caller's choosing.
@limiter.limit(configured_limit("VERIFY_RESEND_LIMIT"))
@require_scope(fresh=True)
@blp.arguments(EmailChangeSchema)
@blp.response(202, AcceptedSchema)
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
def change_email(data: dict[str, str]) -> Any:
    """Change the email address (fresh login required): a link goes to the new address and a
    notice to the current one; the change takes effect when the link is followed."""
    require_account_emails()
    try:
        verification.request_email_change(caller_account(), data["email"])
    except verification.SameAddress:
        # A conflict with the account's state, not a malformed body: 409, like a taken one.
        abort(409, message="This is the account's email address already.")
    except verification.AddressTaken:
        abort(409, message="An account with this email address already exists.")
    return {
        "detail": "A link to verify the new address has been sent to it; the change takes "
        "effect when it is followed."
    }
