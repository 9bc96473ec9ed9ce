"""A clock tests move by hand: it replaces `myapi.clock.source`, which every `utcnow()` reads."""

from __future__ import annotations

from datetime import datetime, timedelta

from myapi.clock import utcnow


class Clock:
    """The service's time, frozen at the moment the test began, until the test moves it."""

    def __init__(self) -> None:
        self.now: datetime = utcnow()

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)
