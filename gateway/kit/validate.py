"""Input validation shared by every entry point; each failure is a clear BadRequest."""

from __future__ import annotations

import unicodedata
from typing import Any

import orjson
from email_validator import EmailNotValidError, validate_email

from gateway.errors import BadRequest

MAX_METADATA_BYTES = 8 * 1024
MAX_METADATA_KEYS = 50
# PostgreSQL's text types cannot hold U+0000; no argument has a use for it.
NUL = "\x00"


def holds_nul(value: Any) -> bool:
    """Whether a JSON value holds a NUL in any string, object keys included. Walked
    with a stack, not recursion: a client's JSON may nest 1,024 deep."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if NUL in item:
                return True
        elif isinstance(item, dict):
            if any(NUL in key for key in item if isinstance(key, str)):
                return True
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False


def nul_refusal(where: str) -> BadRequest:
    return BadRequest(f"{where} contains a NUL character (U+0000), which no text argument "
                      "accepts: remove it.")


def email(value: str) -> str:
    try:
        result = validate_email(value.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise BadRequest(f"Invalid email address: {exc}") from None
    return result.normalized.lower() if result.ascii_email else result.normalized


def text(value: str | None, field: str, *, max_length: int, min_length: int = 0) -> str | None:
    if value is None:
        return None
    cleaned = value.strip()
    if any(unicodedata.category(ch) == "Cc" for ch in cleaned):
        raise BadRequest(f"{field} must not contain control characters.")
    if not min_length <= len(cleaned) <= max_length:
        raise BadRequest(f"{field} must be {min_length}-{max_length} characters.")
    return cleaned


# What a person never means to type into a name that other people read: control
# characters (Cc: NUL, bell, tab, newlines), format characters (Cf: the direction
# overrides and isolates U+202A-202E and U+2066-2069, which make "evil\u202eoc.yap"
# display as "evilpay.co", zero-width spaces and joiners, the byte order mark), line
# and paragraph separators (Zl, Zp: U+2028, U+2029, a new line wherever the text is
# shown), and lone surrogates (Cs: not text at all, no database can store them).
_REFUSED_IN_NAMES = {
    "Cc": "control characters",
    "Cf": "invisible formatting or text-direction characters",
    "Zl": "line separators",
    "Zp": "paragraph separators",
    "Cs": "lone surrogates",
}


def display_text(value: str, field: str, *, max_length: int, min_length: int = 0) -> str:
    """The one check for a name a person types and others read (a customer's display
    name, a company's portal branding, comments): trimmed, 1 character per code point,
    without the characters above. The error names the field and the offending code
    point, so the client can show which character to remove."""
    cleaned = value.strip()
    for ch in cleaned:
        refused = _REFUSED_IN_NAMES.get(unicodedata.category(ch))
        if refused is not None:
            raise BadRequest(f"{field} must not contain {refused} (found U+{ord(ch):04X}).",
                             field=field)
    if not min_length <= len(cleaned) <= max_length:
        raise BadRequest(f"{field} must be {min_length}-{max_length} characters.", field=field)
    return cleaned


def client_id(value: str | None) -> str | None:
    cleaned = text(value, "clientId", max_length=200)
    return cleaned or None


def metadata(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise BadRequest("metadata must be a JSON object.")
    if len(value) > MAX_METADATA_KEYS:
        raise BadRequest(f"metadata holds at most {MAX_METADATA_KEYS} keys.")
    try:
        encoded = orjson.dumps(value)
    except TypeError:
        raise BadRequest("metadata must be a JSON object.") from None
    if len(encoded) > MAX_METADATA_BYTES:
        raise BadRequest(f"metadata is limited to {MAX_METADATA_BYTES} bytes of JSON.")
    return value


def choice(value: str, field: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise BadRequest(f"{field} must be one of: {', '.join(allowed)}.")
    return value
