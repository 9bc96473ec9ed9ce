"""Delegated access: a user lets a third-party app act for them (authorization code grant).

The pieces, each a unit of work:

- a **sign-in** at the authorization server's own pages: the same password check, rehash
  and audit events as `/auth/login`, kept as a row behind a short-lived cookie that logging
  out everywhere, a password change or disabling the account revokes;
- **consent**, remembered per user and app as the scopes granted so far;
- an **authorization code**: random, stored as its SHA-256, single-use, valid for
  `CODE_SECONDS`, bound to the app, redirect URI, PKCE challenge, user, scopes and nonce;
- the **grant** its exchange opens: a login session owned by the app (`client_id`), so its
  tokens rotate, expire and are revoked exactly like a user's session. A second exchange of
  a code is refused and ends that grant (RFC 6749 4.1.2);
- **connected apps**: the grants a user has given, and withdrawing one (every token of that
  app for that user ends at once, through the revocation store).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, update

from myapi.clock import utcnow
from myapi.extensions import db
from myapi.models import AuthorizationCode, AuthSession, Consent, OAuthClient, SignIn, User
from myapi.security.opaque_tokens import new_opaque_token, opaque_token_hash
from myapi.security.revocation import revoke_sessions
from myapi.security.scopes import delegated_allowance, effective_scope, format_scope, parse_scope
from myapi.security.tokens import TokenPair, encode_pair
from myapi.services import accounts
from myapi.services.clients import AUTHORIZATION_CODE, allowance_for
from myapi.services.sessions import Device, LoginRefused, open_app_session
from myapi.services.transactions import unit_of_work

#: An authorization code is exchanged at once by a working app; a minute is plenty.
CODE_SECONDS = 60
#: The sign-in at the authorization server's pages lasts this long, then asks again.
SIGN_IN_MINUTES = 10
SIGN_IN_PREFIX = "myapi_si_"
CODE_PREFIX = "myapi_ac_"


class GrantRefused(Exception):
    """The code cannot open a grant: the account or the app can no longer hold any of it."""


@dataclass(frozen=True)
class SignedIn:
    """Who is signed in at the authorization server's pages, and since when."""

    user: User
    auth_time: datetime


def sign_in(identifier: str, password: str, device: Device) -> str:
    """Check a password as `/auth/login` does; returns the sign-in cookie's value.

    LoginRefused for an unknown account, a wrong password or a disabled account, with the
    same `login_failed` event (`via` says where).
    """
    user, refusal = accounts.check_password(identifier, password)
    if refusal is not None:
        with unit_of_work() as work:
            work.audit(
                "login_failed", user_id=user.id if user else None, reason=refusal, via="authorize"
            )
        raise LoginRefused
    assert user is not None
    new_hash = accounts.upgraded_hash(user, password)
    token = new_opaque_token(SIGN_IN_PREFIX)
    now = utcnow()
    with unit_of_work() as work:
        if new_hash is not None:
            user.password_hash = new_hash
        db.session.add(
            SignIn(
                token_hash=opaque_token_hash(token),
                user_id=user.id,
                auth_time=now,
                expires_at=now + timedelta(minutes=SIGN_IN_MINUTES),
            )
        )
        work.audit("login_succeeded", user_id=user.id, via="authorize", ip=device.ip)
    return token


def signed_in(token: str | None) -> SignedIn | None:
    """The live sign-in the cookie names: not expired, not revoked, its account active."""
    if not token or not token.startswith(SIGN_IN_PREFIX) or len(token) > 100:
        return None
    row = db.session.get(SignIn, opaque_token_hash(token))
    if row is None or row.revoked_at is not None or row.expires_at <= utcnow():
        return None
    user = db.session.get(User, row.user_id)
    if user is None or not user.is_active:
        return None
    return SignedIn(user, row.auth_time)


def consented_scope(user_id: int, client_id: str) -> frozenset[str]:
    """The scopes the user has already let this app have (empty: never asked, or withdrawn)."""
    consent = db.session.get(Consent, (user_id, client_id))
    return parse_scope(consent.scope) if consent is not None else frozenset()


def grant_consent(user: User, client: OAuthClient, scope: str) -> None:
    """The user allowed the app `scope`: remembered with what they allowed before."""
    with unit_of_work() as work:
        consent = db.session.get(Consent, (user.id, client.client_id))
        if consent is None:
            consent = Consent(user_id=user.id, client_id=client.client_id, scope="")
            db.session.add(consent)
        consent.scope = format_scope(parse_scope(consent.scope) | parse_scope(scope))
        consent.granted_at = utcnow()
        work.audit("consent_granted", user_id=user.id, client_id=client.client_id, scope=scope)


def deny_consent(user: User, client: OAuthClient, scope: str) -> None:
    with unit_of_work() as work:
        work.audit("consent_denied", user_id=user.id, client_id=client.client_id, scope=scope)


def issue_code(
    client: OAuthClient,
    user: User,
    *,
    redirect_uri: str,
    scope: str,
    nonce: str | None,
    code_challenge: str,
    auth_time: datetime,
) -> str:
    """A new authorization code; only its hash is stored."""
    code = new_opaque_token(CODE_PREFIX)
    now = utcnow()
    with unit_of_work():
        db.session.add(
            AuthorizationCode(
                code_hash=opaque_token_hash(code),
                client_id=client.client_id,
                user_id=user.id,
                redirect_uri=redirect_uri,
                scope=scope,
                nonce=nonce,
                code_challenge=code_challenge,
                auth_time=auth_time,
                created_at=now,
                expires_at=now + timedelta(seconds=CODE_SECONDS),
            )
        )
    return code


def find_code(code: str, client_id: str) -> AuthorizationCode | None:
    """The unused, unexpired code issued to this client; None otherwise.

    A code presented again after its exchange is a replay: it is refused, and the grant
    its first exchange opened ends with every token issued from it.
    """
    if not code.startswith(CODE_PREFIX) or len(code) > 100:
        return None
    row = db.session.get(AuthorizationCode, opaque_token_hash(code))
    if row is None or row.client_id != client_id:
        return None
    if row.used_at is not None:
        _code_reused(row)
        return None
    return row if utcnow() < row.expires_at else None


def _code_reused(row: AuthorizationCode) -> None:
    with unit_of_work() as work:
        revoked = 0
        if row.session_id is not None:
            revoked = revoke_sessions(AuthSession.id == row.session_id)
        work.audit(
            "authorization_code_reused",
            client_id=row.client_id,
            user_id=row.user_id,
            session_id=row.session_id,
            sessions_revoked=revoked,
        )


def code_user(row: AuthorizationCode) -> User | None:
    return db.session.get(User, row.user_id)


def nonce_used(client_id: str | None, nonce: str) -> bool:
    """Whether this app already sent this OpenID Connect nonce in an earlier request."""
    return (
        db.session.scalar(
            select(AuthorizationCode.code_hash).where(
                AuthorizationCode.client_id == client_id, AuthorizationCode.nonce == nonce
            )
        )
        is not None
    )


def exchange_code(row: AuthorizationCode, client: OAuthClient, device: Device) -> TokenPair:
    """Spend the code and open the app's grant, in one unit of work.

    The code is marked used with a compare-and-set: of two concurrent exchanges one wins,
    the other is a replay and ends what the first opened. The grant's scope follows the
    one scope rule: what the user consented to, narrowed to what the account and the app
    may hold now.
    """
    user = db.session.get(User, row.user_id)
    allowance = allowance_for(client, AUTHORIZATION_CODE)
    if user is None or not user.is_active:
        raise GrantRefused
    scope = effective_scope(
        effective_scope(row.scope, delegated_allowance(user.role)),
        allowance,
    )
    if not scope:
        raise GrantRefused
    now = utcnow()
    with unit_of_work() as work:
        spent = db.session.execute(
            update(AuthorizationCode)
            .where(
                AuthorizationCode.code_hash == row.code_hash,
                AuthorizationCode.used_at.is_(None),
            )
            .values(used_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
        if spent:
            session = open_app_session(work, user, format_scope(scope), client.client_id, device)
            row.session_id = session.id
            work.audit(
                "app_grant_opened",
                user_id=user.id,
                client_id=client.client_id,
                session_id=session.id,
                scope=session.scope,
            )
    if not spent:
        db.session.refresh(row)
        _code_reused(row)
        raise GrantRefused
    return encode_pair(session, fresh=False)


def connected_apps(user_id: int) -> list[dict[str, Any]]:
    """The apps the user has let act for them: consent, and when a grant was last used."""
    last_used = (
        select(AuthSession.client_id, func.max(AuthSession.last_used_at).label("last_used_at"))
        .where(AuthSession.user_id == user_id, AuthSession.client_id.is_not(None))
        .group_by(AuthSession.client_id)
        .subquery()
    )
    rows = db.session.execute(
        select(Consent, OAuthClient.name, last_used.c.last_used_at)
        .join(OAuthClient, OAuthClient.client_id == Consent.client_id)
        .outerjoin(last_used, last_used.c.client_id == Consent.client_id)
        .where(Consent.user_id == user_id)
        .order_by(Consent.granted_at.desc(), Consent.client_id)
    ).all()
    return [
        {
            "client_id": consent.client_id,
            "name": name,
            "scope": consent.scope,
            "granted_at": consent.granted_at,
            "last_used_at": used,
        }
        for consent, name, used in rows
    ]


def withdraw_consent(user_id: int, client_id: str) -> bool:
    """Forget the consent and end every grant of the app for the user, at once.

    False when the user had neither consented to the app nor given it a live grant.
    """
    with unit_of_work() as work:
        consent = db.session.get(Consent, (user_id, client_id))
        if consent is not None:
            db.session.delete(consent)
        revoked = revoke_sessions(
            AuthSession.user_id == user_id, AuthSession.client_id == client_id
        )
        if consent is None and not revoked:
            return False
        work.audit(
            "consent_revoked", user_id=user_id, client_id=client_id, sessions_revoked=revoked
        )
    return True


#: A spent code is kept this long past its expiry, so a late replay still ends its grant.
CODE_KEPT_AFTER_EXPIRY = timedelta(days=1)


def prune_expired(now: datetime | None = None) -> tuple[int, int]:
    """Delete authorization codes a day past their expiry and expired sign-ins; the counts."""
    now = now or utcnow()
    with unit_of_work():
        codes = db.session.execute(
            delete(AuthorizationCode).where(
                AuthorizationCode.expires_at < now - CODE_KEPT_AFTER_EXPIRY
            )
        ).rowcount
        sign_ins = db.session.execute(delete(SignIn).where(SignIn.expires_at < now)).rowcount
    return codes, sign_ins
