"""The API for end-to-end tests that move its time: `gunicorn tests.e2e.shifted_clock:app`.

Every `myapi.clock.utcnow()` is the real time plus the seconds in the file E2E_CLOCK_FILE
names, read at each call (`conftest.ServerClock` writes it). Tokens are issued and sessions
dated on that time; PyJWT checks `exp` on the real one, so a token issued with the clock a
minute behind is really expired, without waiting a minute.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from pathlib import Path

import myapi.clock
from wsgi import app

_OFFSET_FILE = Path(os.environ["E2E_CLOCK_FILE"])
_real_time = myapi.clock.source


def _shifted_time() -> datetime:
    return _real_time() + timedelta(seconds=float(_OFFSET_FILE.read_text()))


myapi.clock.source = _shifted_time

__all__ = ["app"]
