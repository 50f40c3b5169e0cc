"""Input validation shared by every entry point; each failure is a clear BadRequest."""

from __future__ import annotations

import unicodedata
from typing import Any

import orjson
from email_validator import EmailNotValidError, validate_email

from gateway.errors import BadRequest

MAX_METADATA_BYTES = 8 * 1024
MAX_METADATA_KEYS = 50


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
