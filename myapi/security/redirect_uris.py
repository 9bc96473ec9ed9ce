"""Redirect URIs: what may be registered, and whether a requested one matches (RFC 9700 2.1).

Registration: `https` with a host, or plain `http` to a loopback IP literal for native apps
(`127.0.0.1` or `[::1]`, RFC 8252 7.3; never `localhost`, which a hosts file can point
anywhere). No fragment (RFC 6749 3.1.2), no wildcard, no userinfo, printable ASCII only.

Matching is string equality with the registered URI. The one exception is RFC 8252 7.3: a
loopback redirect matches on any port, everything else (scheme, address, path, query)
still compared as strings. Nothing is normalised before comparing: a trailing slash, an
encoded character or a different case is a different URI, and it never redirects.
"""

from __future__ import annotations

import re

MAX_LENGTH = 2000
# Printable ASCII without space; no fragment and no wildcard anywhere.
_CHARACTERS = re.compile(r"[\x21-\x7e]+")
# A loopback redirect: scheme, address, optional port, then the rest (path and query).
_LOOPBACK = re.compile(r"http://(127\.0\.0\.1|\[::1\])(?::([0-9]{1,5}))?(/[^#]*)?")
_HTTPS = re.compile(r"https://(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?(?:[/?][^#]*)?")


class RedirectUriError(ValueError):
    """A redirect URI that may not be registered; the message says why, for the operator."""


def _loopback_parts(uri: str) -> tuple[str, str] | None:
    """(address, rest) of a loopback redirect, or None when `uri` is not one."""
    match = _LOOPBACK.fullmatch(uri)
    if match is None:
        return None
    port = match.group(2)
    if port is not None and not 0 < int(port) < 65536:
        return None
    return match.group(1), match.group(3) or ""


def check_redirect_uri(uri: str) -> str:
    """`uri` if it may be registered; RedirectUriError saying why not."""
    if not uri or len(uri) > MAX_LENGTH or not _CHARACTERS.fullmatch(uri):
        raise RedirectUriError(
            f"a redirect URI is 1-{MAX_LENGTH} printable ASCII characters without spaces"
        )
    if "#" in uri:
        raise RedirectUriError("a redirect URI has no fragment")
    if "*" in uri:
        raise RedirectUriError("a redirect URI has no wildcard: register each URI exactly")
    if uri.startswith("http://"):
        if _loopback_parts(uri) is None:
            raise RedirectUriError(
                "a plain http redirect URI is only for loopback: http://127.0.0.1 or http://[::1] "
                "with any port; use https"
            )
        return uri
    if "@" in uri.partition("?")[0]:
        raise RedirectUriError("a redirect URI has no user name or password")
    if not _HTTPS.fullmatch(uri):
        raise RedirectUriError(
            "a redirect URI is https://, a host name or address, an optional port, a path"
        )
    return uri


def redirect_uri_matches(requested: str, registered: str) -> bool:
    """Whether `requested` is `registered` (loopback redirects: on any port)."""
    if requested == registered:
        return True
    ours, theirs = _loopback_parts(registered), _loopback_parts(requested)
    return ours is not None and ours == theirs
