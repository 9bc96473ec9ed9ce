"""Waiting for something a test can observe, instead of sleeping for a fixed time.

A fixed sleep is too long on a fast machine and can be too short on a loaded one;
polling returns as soon as the condition holds and fails, saying what it waited
for, only after a deadline far beyond the expected wait.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

import pytest

_T = TypeVar("_T")

#: How often the condition is looked at again.
POLL_INTERVAL = 0.2


def poll(
    action: Callable[[], _T],
    until: Callable[[_T], bool],
    what: str,
    *,
    timeout: float,
) -> _T:
    """Repeat `action` until `until(result)` holds and return that result.

    `action` runs at once, then every POLL_INTERVAL seconds; after `timeout` seconds
    without success the test fails with `what` and the last result.
    """
    deadline = time.monotonic() + timeout
    while True:
        result = action()
        if until(result):
            return result
        if time.monotonic() >= deadline:
            pytest.fail(f"waited {timeout:g} s for {what}; the last result was {result!r}")
        time.sleep(POLL_INTERVAL)
