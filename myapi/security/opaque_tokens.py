"""Opaque credentials: a recognisable prefix and 32 random bytes, stored only as SHA-256.

Personal access tokens (`myapi_pat_`) and OAuth client secrets (`myapi_cs_`) are made
and checked here. The prefix lets secret scanners spot a leaked one. With 256 bits of
entropy there is nothing to brute-force (unlike a password), so a fast unsalted hash is
enough, and it lets a presented token be found by an indexed equality lookup; a slow
password hash would only make every presentation expensive for anyone to trigger.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from hmac import compare_digest

_RANDOM_PART = r"[A-Za-z0-9_-]{43}"


def new_opaque_token(prefix: str) -> str:
    return prefix + secrets.token_urlsafe(32)


def has_opaque_shape(token: str, prefix: str) -> bool:
    """Whether `token` could be one of ours with this prefix (nothing is looked up)."""
    return re.fullmatch(re.escape(prefix) + _RANDOM_PART, token) is not None


def opaque_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def opaque_token_matches(token: str, stored_hash: str) -> bool:
    """Constant-time comparison of the presented token's hash with the stored one."""
    return compare_digest(opaque_token_hash(token), stored_hash)
