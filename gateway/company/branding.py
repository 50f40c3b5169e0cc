"""A merchant's portal branding: a small, typed, validated shape kept as JSON on the company.

There is deliberately no logo URL. The portal page's Content-Security-Policy loads
images, styles and fonts from its own origin only, so a logo on the merchant's host
would be blocked; fetching it for them would turn the gateway into a client of any
host a merchant names."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlsplit

from gateway.errors import BadRequest
from gateway.kit import validate

ACCENT_RE = re.compile(r"#[0-9a-fA-F]{6}")
# The page draws white text on the accent (buttons, the brand mark) and accent-coloured
# text on its background; WCAG AA asks 4.5:1 for normal-size text in both cases.
WHITE = "#ffffff"
PAGE_BACKGROUND = "#f6f7f9"  # --bg in web/assets/portal.css
MIN_CONTRAST = 4.5
MAX_DISPLAY_NAME = 100
MAX_SUPPORT_URL = 500
_HOST_RE = re.compile(r"(?=.{4,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}")


@dataclass(frozen=True, slots=True)
class Branding:
    accent_color: str | None = None
    support_email: str | None = None
    support_url: str | None = None
    display_name: str | None = None

    @classmethod
    def from_json(cls, value: Any) -> Branding:
        """What is stored; keys it does not know and values that are not strings are
        ignored rather than trusted."""
        if not isinstance(value, dict):
            return cls()
        found = {name: value.get(key) for name, key in JSON_KEYS.items()}
        return cls(**{name: item for name, item in found.items() if isinstance(item, str)})

    def to_json(self) -> dict[str, str] | None:
        stored = {key: getattr(self, name) for name, key in JSON_KEYS.items()
                  if getattr(self, name) is not None}
        return stored or None

    def public(self) -> dict[str, str | None]:
        """Every field as the API names and shows it."""
        return {key: getattr(self, name) for name, key in JSON_KEYS.items()}

    @property
    def is_empty(self) -> bool:
        return self.to_json() is None

    def updated(self, cleaned: Mapping[str, str | None]) -> Branding:
        """A copy with changes that `clean_changes` returned."""
        return replace(self, **cleaned)


JSON_KEYS = {"accent_color": "accentColor", "support_email": "supportEmail",
             "support_url": "supportUrl", "display_name": "displayName"}


def clean_changes(changes: Mapping[str, str | None]) -> dict[str, str | None]:
    """`changes` (field name to raw value; None clears) validated and normalized, or a
    BadRequest naming the first invalid field."""
    unknown = set(changes) - set(JSON_KEYS)
    if unknown:
        raise ValueError(f"unknown branding fields: {sorted(unknown)}")
    return {name: None if raw is None else VALIDATORS[name](raw) for name, raw in changes.items()}


def relative_luminance(color: str) -> float:
    """WCAG 2 relative luminance of #RRGGBB."""
    channels = []
    for i in (1, 3, 5):
        c = int(color[i:i + 2], 16) / 255
        channels.append(c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4)
    r, g, b = channels
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(a: str, b: str) -> float:
    high, low = sorted((relative_luminance(a), relative_luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def accent_color(value: str) -> str:
    color = value.strip()
    if ACCENT_RE.fullmatch(color) is None:
        raise _bad("accentColor", "must be a colour in the form #RRGGBB, e.g. #0f766e.")
    color = color.lower()
    worst = min(contrast_ratio(color, WHITE), contrast_ratio(color, PAGE_BACKGROUND))
    if worst < MIN_CONTRAST:
        raise _bad(
            "accentColor",
            f"{color} is too light: white text on it, and it as text on the page's "
            f"background ({PAGE_BACKGROUND}), need a contrast of at least {MIN_CONTRAST}:1 "
            f"(WCAG AA); it has {worst:.2f}:1. Choose a darker shade.",
            contrast=round(worst, 2),
        )
    return color


def support_email(value: str) -> str:
    try:
        return validate.email(value)
    except BadRequest as exc:
        detail = exc.message.removeprefix("Invalid email address: ")
        raise _bad("supportEmail", f"is not a valid email address: {detail}") from None


def support_url(value: str) -> str:
    return https_url(value, "supportUrl", MAX_SUPPORT_URL, example="help.example.com")


def https_url(value: str, field: str, max_length: int, *, example: str) -> str:
    """An https:// URL a customer is sent to: no other scheme (javascript: above all),
    no credentials, a real host name."""
    url = value.strip()
    if not url:
        raise _bad(field, "must not be empty; send null to remove it.")
    if len(url) > max_length:
        raise _bad(field, f"is limited to {max_length} characters.")
    if any(ch.isspace() or unicodedata.category(ch) in ("Cc", "Cf") for ch in url):
        raise _bad(field, "must not contain spaces or control characters.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise _bad(field, "is not a valid URL.") from None
    if parts.scheme.lower() != "https":
        raise _bad(field, "must start with https:// (other schemes are refused).")
    if parts.username is not None or parts.password is not None:
        raise _bad(field, "must not hold a user name or password.")
    host = (parts.hostname or "").rstrip(".")
    if _HOST_RE.fullmatch(host) is None or port == 0:
        raise _bad(field, f"must name a host such as {example}.")
    return url


def display_name(value: str) -> str:
    return validate.display_text(value, "displayName", min_length=1, max_length=MAX_DISPLAY_NAME)


def _bad(field: str, problem: str, **extensions: Any) -> BadRequest:
    return BadRequest(f"{field} {problem}", field=field, **extensions)


VALIDATORS = {"accent_color": accent_color, "support_email": support_email,
              "support_url": support_url, "display_name": display_name}
