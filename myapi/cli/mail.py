"""`flask mail send`: deliver the outbox once, or keep delivering (the worker mode)."""

from __future__ import annotations

import time

import click
from flask import current_app
from flask.cli import AppGroup

from myapi.cli.database import writes_database
from myapi.mail.sender import send_due
from myapi.services import outbox

mail = AppGroup("mail", help="Deliver queued email.")


@mail.command("send")
@click.option(
    "--loop",
    is_flag=True,
    help="Keep going: a pass every MAIL_RETRY_SECONDS (or sooner while mail is due), "
    "as a process of its own beside gunicorn (MAIL_DELIVERY=worker).",
)
@writes_database
def send_command(loop: bool) -> None:
    """Send the queued messages that are due; failures stay queued and are retried later."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    while True:
        delivery = send_due(app)
        if delivery is not None:
            click.echo(
                f"sent {delivery.sent}, failed {delivery.failed}, given up {delivery.abandoned}",
                err=True,
            )
        if not loop:
            if delivery is None:
                raise click.ClickException("the outbox could not be read")
            pending, _ = outbox.backlog()
            click.echo(f"still queued: {pending}", err=True)
            return
        busy = delivery is not None and delivery.sent == outbox.BATCH
        time.sleep(0 if busy else app.config["MAIL_RETRY_SECONDS"])
