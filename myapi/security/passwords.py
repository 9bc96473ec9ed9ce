"""Password policy and hashing.

Hashes use werkzeug with the configured method (OWASP-minimum scrypt by default);
a stored hash made with another method is upgraded at the next successful login.
"""

from __future__ import annotations

import secrets
from functools import cache
from importlib.resources import files

from flask import current_app
from werkzeug.security import check_password_hash, generate_password_hash

MIN_LENGTH = 12
MAX_LENGTH = 128
_PADDING = "0123456789!@#$%^&*()-_=+.,;:?~ "

# OWASP Password Storage cheat sheet: scrypt (N, p) pairs with r=8, and PBKDF2 iterations.
_SCRYPT_MINIMUMS = ((2**17, 1), (2**16, 2), (2**15, 3), (2**14, 5), (2**13, 10))
_PBKDF2_MINIMUMS = {"sha256": 600_000, "sha512": 220_000}


@cache
def common_passwords() -> frozenset[str]:
    """The 10,000 most common passwords, shipped as package data, lower-cased."""
    text = files("myapi.security").joinpath("common_passwords.txt").read_text("utf-8")
    return frozenset(line.strip().lower() for line in text.splitlines() if line.strip())


def password_problems(password: str) -> list[str]:
    """Why a new password is refused; empty when it is acceptable.

    Length is counted in characters and nothing is ever truncated; there are no
    composition rules (NIST SP 800-63B, ASVS 6.2.5). A common password padded with
    digits or symbols to reach the length ("password1234567") counts as common.
    """
    if len(password) < MIN_LENGTH:
        return [f"Must be at least {MIN_LENGTH} characters long."]
    if len(password) > MAX_LENGTH:
        return [f"Must be at most {MAX_LENGTH} characters long."]
    lowered = password.lower()
    core = lowered.strip(_PADDING)
    if lowered in common_passwords() or core in common_passwords():
        return ["Is one of the most commonly used passwords; choose another."]
    return []


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])


def verify_password(stored_hash: str | None, password: str) -> bool:
    """Check a password; with no stored hash, spend the same time on a dummy one."""
    if stored_hash is None:
        check_password_hash(_dummy_hash(current_app.config["PASSWORD_HASH_METHOD"]), password)
        return False
    return check_password_hash(stored_hash, password)


def needs_rehash(stored_hash: str) -> bool:
    """Whether the hash was made with other parameters than the configured ones."""
    wanted = _canonical_method(current_app.config["PASSWORD_HASH_METHOD"])
    return stored_hash.split("$", 1)[0] != wanted


@cache
def _canonical_method(method: str) -> str:
    """The method as werkzeug writes it into hashes ("scrypt" -> "scrypt:32768:8:1")."""
    return _dummy_hash(method).split("$", 1)[0]


@cache
def _dummy_hash(method: str) -> str:
    return generate_password_hash(secrets.token_urlsafe(16), method=method)


def meets_owasp_minimum(method: str) -> bool:
    """Whether a werkzeug hash method string is at or above the OWASP minimum cost."""
    name, *params = method.split(":")
    try:
        if name == "scrypt":
            n, r, p = (int(x) for x in params) if params else (2**15, 8, 1)
            return r >= 8 and any(n >= min_n and p >= min_p for min_n, min_p in _SCRYPT_MINIMUMS)
        if name == "pbkdf2":
            digest = params[0] if params else "sha256"
            iterations = int(params[1]) if len(params) > 1 else 1_000_000
            return iterations >= _PBKDF2_MINIMUMS.get(digest, float("inf"))
    except ValueError:
        return False
    return False
