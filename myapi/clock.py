"""The one clock: timezone-aware UTC, truncated where tokens need whole seconds.

Tests move time by replacing `source` (every `utcnow()` call reads it), never by patching
the modules that call `utcnow`; token signatures and expiry checks inside PyJWT keep the
real time.
"""

from collections.abc import Callable
from datetime import UTC, datetime


def _wall_clock() -> datetime:
    return datetime.now(UTC)


#: Where `utcnow()` reads the time; replaced only by tests.
source: Callable[[], datetime] = _wall_clock


def utcnow() -> datetime:
    """Now, in UTC, aware; every timestamp in the service comes from here."""
    return source()


def epoch_seconds(moment: datetime) -> int:
    """Whole seconds since the epoch, as JWT NumericDate claims carry them."""
    return int(moment.timestamp())


def from_epoch(seconds: int | float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def as_utc(moment: datetime | str) -> datetime:
    """A timestamp the database returned without its column type (an aggregate such as
    `func.min`): SQLite gives text or a naive datetime, meaning UTC; PostgreSQL an aware one."""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
