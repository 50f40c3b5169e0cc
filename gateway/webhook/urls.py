"""Endpoint URLs as the contract allows them (section 10), checked when saved."""

from __future__ import annotations

from urllib.parse import urlsplit

from gateway.errors import BadRequest

MAX_URL_LENGTH = 2000


def check_url(value: str, *, production: bool) -> str:
    url = value.strip()
    if not url or len(url) > MAX_URL_LENGTH:
        raise BadRequest(f"url must be 1-{MAX_URL_LENGTH} characters.")
    if any(ch.isspace() or ord(ch) < 32 for ch in url):
        raise BadRequest("url must not contain spaces or control characters.")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (raises on a malformed port)
    except ValueError:
        raise BadRequest("url is not a valid URL.") from None
    allowed = ("https",) if production else ("https", "http")
    if parts.scheme not in allowed:
        raise BadRequest("url must start with https://." if production
                         else "url must start with https:// or http://.")
    if not parts.hostname:
        raise BadRequest("url must name a host.")
    if parts.username is not None or parts.password is not None:
        raise BadRequest("url must not carry a user name or password.")
    if parts.fragment:
        raise BadRequest("url must not have a #fragment.")
    return url
