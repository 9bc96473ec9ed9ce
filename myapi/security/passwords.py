"""Password policy and hashing.

Hashes use werkzeug with the configured method (OWASP-minimum scrypt by default);
a stored hash made with another method is upgraded at the next successful login.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from importlib.resources import files
from typing import TypeVar

from flask import current_app
from werkzeug.exceptions import ServiceUnavailable
from werkzeug.security import (
    DEFAULT_PBKDF2_ITERATIONS,
    check_password_hash,
    generate_password_hash,
)

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


_T = TypeVar("_T")
# Niceness of the hashing thread: it yields the CPU to every other request's thread.
_HASHING_NICENESS = 10
# Hashes a process accepts at once: one computing and one queued. More would tie up the
# request threads that token checks need; the excess is shed with a 503 instead.
_HASHES_IN_FLIGHT = 2
_in_flight = threading.BoundedSemaphore(_HASHES_IN_FLIGHT)
_pool: tuple[int, ThreadPoolExecutor] | None = None
_pool_lock = threading.Lock()


class HashingBusy(ServiceUnavailable):
    """Too many password hashes are already running or waiting in this process."""

    description = "Too many logins are being processed; retry shortly."
    problem_slug = "busy"

    def __init__(self) -> None:
        super().__init__(retry_after=1)


def _lower_priority() -> None:
    """Linux schedules threads individually, so this lowers only the hashing thread."""
    # Not Linux, or not allowed: hash at normal priority.
    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), _HASHING_NICENESS)


def _hashing_pool() -> ThreadPoolExecutor:
    """One hashing thread per process, made in the process that uses it (never across fork)."""
    global _pool
    with _pool_lock:
        if _pool is None or _pool[0] != os.getpid():
            _pool = (os.getpid(), ThreadPoolExecutor(1, "password-hash", _lower_priority))
        return _pool[1]


def _off_the_request_thread(work: Callable[..., _T], *args: str) -> _T:
    """Run a password hash on the process's one low-priority hashing thread.

    A hash costs a quarter of a second of CPU on purpose. Run on the request's own
    thread, a flood of logins would take every core from the requests that only verify a
    token; here at most one hash per worker process runs at a time, at a lower priority,
    so the other threads of every worker (gunicorn's gthread workers) keep answering. The
    scrypt and PBKDF2 implementations release the GIL while they compute. A request that
    would be a third hash in flight gets 503 with Retry-After at once (a login flood is shed,
    not queued), and reveals nothing about the password, which was never checked.
    """
    if not _in_flight.acquire(blocking=False):
        raise HashingBusy()
    try:
        return _hashing_pool().submit(work, *args).result()
    finally:
        _in_flight.release()


def hash_password(password: str) -> str:
    method = current_app.config["PASSWORD_HASH_METHOD"]
    return _off_the_request_thread(lambda: generate_password_hash(password, method=method))


def verify_password(stored_hash: str | None, password: str) -> bool:
    """Check a password; with no stored hash, spend the same time on a dummy one."""
    if stored_hash is None:
        dummy = _off_the_request_thread(_dummy_hash, current_app.config["PASSWORD_HASH_METHOD"])
        _off_the_request_thread(check_password_hash, dummy, password)
        return False
    return _off_the_request_thread(check_password_hash, stored_hash, password)


def needs_rehash(stored_hash: str) -> bool:
    """Whether the hash was made with other parameters than the configured ones."""
    wanted = _canonical_method(current_app.config["PASSWORD_HASH_METHOD"])
    return stored_hash.partition("$")[0] != wanted


@cache
def _canonical_method(method: str) -> str:
    """The method as werkzeug writes it into hashes ("scrypt" -> "scrypt:32768:8:1")."""
    return _off_the_request_thread(_dummy_hash, method).partition("$")[0]


@cache
def _dummy_hash(method: str) -> str:
    return generate_password_hash(secrets.token_urlsafe(), method=method)


def meets_owasp_minimum(method: str) -> bool:
    """Whether a werkzeug hash method string is at or above the OWASP minimum cost.

    Parameters left out take werkzeug's defaults: for scrypt (32768:8:1) those are below
    the minimum; for PBKDF2, SHA-256 and DEFAULT_PBKDF2_ITERATIONS.
    """
    name, *params = method.split(":")
    try:
        if name == "scrypt":
            if not params:
                return False
            n, r, p = (int(x) for x in params)
            return r >= 8 and any(n >= min_n and p >= min_p for min_n, min_p in _SCRYPT_MINIMUMS)
        if name == "pbkdf2":
            digest = params[0] if params else "sha256"
            iterations = int(params[1]) if len(params) > 1 else DEFAULT_PBKDF2_ITERATIONS
            return iterations >= _PBKDF2_MINIMUMS.get(digest, float("inf"))
    except ValueError:
        return False
    return False
