"""Absolute URLs of this service, built from `PUBLIC_URL` and never from the request.

A URL built from the `Host` header is whatever the client claims it is: with the default
setup, `Host: evil.example` made the OAuth metadata advertise another server's token
endpoint. So the public base URL is configuration, and the path comes from the app's own
routes (not from the request's script root).
"""

from __future__ import annotations

from typing import Any

from flask import current_app


def absolute_url(endpoint: str, **values: Any) -> str:
    """The public URL of `endpoint`: `PUBLIC_URL` followed by the route's path."""
    path = current_app.url_map.bind("").build(endpoint, values)
    return current_app.config["PUBLIC_URL"] + path


def front_end_link(page: str, token: str) -> str:
    """The link in an email: the front-end's `page`, with the token in the URL fragment.

    The base is `FRONTEND_URL` (else `PUBLIC_URL`), never the request's host (catalogue row
    E9). A fragment is never sent to a server, so the token stays out of every access log
    and `Referer` header; the page reads it and POSTs it.
    """
    base = current_app.config["FRONTEND_URL"] or current_app.config["PUBLIC_URL"]
    return f"{base}/{page}#token={token}"
