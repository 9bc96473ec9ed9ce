"""The one clock: timezone-aware UTC, truncated where tokens need whole seconds."""

from datetime import UTC, datetime


def utcnow() -> datetime:
    """Now, in UTC, aware; every timestamp in the service comes from here."""
    return datetime.now(UTC)


def epoch_seconds(moment: datetime) -> int:
    """Whole seconds since the epoch, as JWT NumericDate claims carry them."""
    return int(moment.timestamp())


def from_epoch(seconds: int | float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)
