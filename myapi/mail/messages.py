"""Each kind of email: its subject, and its plain-text and HTML bodies from templates.

The templates live in `myapi/mail/templates/<name>.txt` and `.html`; the HTML one is
autoescaped. A message's context is plain JSON data (what the outbox row keeps).
"""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask_mailman import EmailMultiAlternatives
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

SUBJECTS = {
    "password_reset": "Reset your password",
    "password_changed": "Your password was changed",
    "email_verification": "Verify your email address",
    "email_change_requested": "A change of your email address was requested",
}

_templates = Environment(
    loader=PackageLoader("myapi.mail", "templates"),
    autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined,
    keep_trailing_newline=True,
)


def build_message(name: str, recipient: str, context: dict[str, Any]) -> EmailMultiAlternatives:
    """The message `name` to `recipient`, plain text with an HTML alternative."""
    text = _templates.get_template(f"{name}.txt").render(context)
    html = _templates.get_template(f"{name}.html").render(context)
    message = EmailMultiAlternatives(
        subject=SUBJECTS[name],
        body=text,
        from_email=current_app.config["MAIL_DEFAULT_SENDER"],
        to=[recipient],
    )
    message.attach_alternative(html, "text/html")
    return message
