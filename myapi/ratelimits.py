"""Who a rate limit counts: the client address, or the account a login names."""

from flask import request


def client_ip() -> str:
    """The peer address; `TRUSTED_PROXIES` decides upstream whether it may come from a proxy."""
    return request.remote_addr or "unknown"


def login_account_key() -> str:
    """Count login attempts per account, whichever address they come from.

    An existing account is counted by id, so alternating its username and its
    email does not double the attempts allowed.
    """
    from myapi.accounts import find_user  # here: accounts needs the extensions, which need us

    body = request.get_json(silent=True)
    identifier = body.get("username") if isinstance(body, dict) else None
    if not isinstance(identifier, str) or not identifier.strip():
        return "address:" + client_ip()
    user = find_user(identifier[:254])
    return f"user:{user.id}" if user else "account:" + identifier.strip().lower()[:254]
