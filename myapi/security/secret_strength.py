"""Whether a signing secret is fit for Production: long, random, and in no wordlist.

The wordlist (`weak_secrets.txt`, package data) holds every example or placeholder value
this project's documents show and the values common in tutorials and JWT cracking
wordlists; the security suite cracks the issued tokens with the same list.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files

MIN_SECRET_BYTES = 32
_MIN_DISTINCT_CHARACTERS = 10


@cache
def weak_secrets() -> frozenset[str]:
    """The wordlist, lower-cased; lines starting with # are comments."""
    text = files("myapi.security").joinpath("weak_secrets.txt").read_text("utf-8")
    return frozenset(
        line.strip().lower() for line in text.splitlines() if line.strip() and line[0] != "#"
    )


def secret_problems(name: str, secret: str) -> list[str]:
    """Why `secret` (the setting `name`) must not sign tokens; empty if it may. Never echoes it."""
    if not secret:
        return [f"{name} is not set"]
    if secret.strip().lower() in weak_secrets():
        return [f"{name} is an example value from the documentation"]
    if len(secret.encode()) < MIN_SECRET_BYTES:
        return [f"{name} is shorter than {MIN_SECRET_BYTES} bytes"]
    if len(set(secret)) < _MIN_DISTINCT_CHARACTERS:
        return [f"{name} is not random (too few distinct characters)"]
    return []
