"""`flask keys ...`: asymmetric token-signing keys and their rotation."""

from __future__ import annotations

from flask.cli import AppGroup

keys = AppGroup("keys", help="Manage token-signing keys (TOKEN_SIGNING=keys).")
