"""Who a rate limit counts: the client address, or the account a login names."""

from flask import request


def client_ip() -> str:
    """The peer address; `TRUSTED_PROXIES` decides upstream whether it may come from a proxy."""
    return request.remote_addr or "unknown"


def login_account_key() -> str:
    """Count login attempts per account, whichever address they come from."""
    body = request.get_json(silent=True)
    identifier = body.get("username") if isinstance(body, dict) else None
    if isinstance(identifier, str) and identifier.strip():
        return "account:" + identifier.strip().lower()[:254]
    return "address:" + client_ip()
