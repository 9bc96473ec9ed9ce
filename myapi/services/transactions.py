"""One unit of work: every change and its audit events, committed or rolled back together."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from myapi.extensions import db
from myapi.logs import audit
from myapi.security.revocation import revocation_store


class UnitOfWork:
    """What a service records while it works: audit events, and steps for after the commit."""

    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []
        self.after_commit_steps: list[Callable[[], None]] = []

    def audit(self, event: str, **fields: Any) -> None:
        """An audit event of this unit, written just before it commits (never for a rollback)."""
        self.events.append((event, fields))

    def after_commit(self, step: Callable[[], None]) -> None:
        """Run `step` once the commit has succeeded (e.g. drop a cache entry again)."""
        self.after_commit_steps.append(step)


@contextmanager
def unit_of_work() -> Iterator[UnitOfWork]:
    """Commit everything done in the block, with its audit events; roll all of it back on error.

    The events are written as the last step before the commit, so a failure to write them
    rolls the change back too: no change is ever applied without its audit event. Should
    the commit itself then fail, `transaction_failed` names the events that did not happen.
    """
    work = UnitOfWork()
    try:
        yield work
        for event, fields in work.events:
            audit(event, **fields)
    except BaseException:
        db.session.rollback()
        raise
    try:
        db.session.commit()
    except BaseException:
        db.session.rollback()
        if work.events:
            audit("transaction_failed", events=[event for event, _ in work.events])
        raise
    for step in work.after_commit_steps:
        step()


def holder_changed(work: UnitOfWork, holder: str) -> None:
    """A user's or client's mirrored state (Redis) is dropped now and again after the commit.

    Now: if Redis fails, nothing is committed. After: a request that re-read the old row in
    between cannot leave the old role, status, credential or scope cached.
    """
    revocation_store().holders_changed([holder])
    work.after_commit(lambda: revocation_store().holders_changed([holder]))
