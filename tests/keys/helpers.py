"""Shared values of the signing-key tests."""

from __future__ import annotations

from cryptography.fernet import Fernet

ENCRYPTION_KEY = Fernet.generate_key().decode()
