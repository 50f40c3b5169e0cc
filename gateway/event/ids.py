"""Event ids: a ULID, stored as the UUID of the same 128 bits (time-ordered keys on
every backend), shown as evt_ + its 26 lower-case base32 characters."""

from __future__ import annotations

import re
import uuid

from gateway.errors import BadRequest
from gateway.kit.ulid import new_ulid_bytes, ulid_from_text, ulid_text

EVENT_ID_RE = re.compile(r"evt_[0-9a-hjkmnp-tv-z]{26}")


def new_event_ids(timestamp: float) -> tuple[uuid.UUID, str]:
    """A new event's id, stored and shown (one ULID made, not converted back)."""
    raw = new_ulid_bytes(timestamp)
    return uuid.UUID(bytes=raw), "evt_" + ulid_text(raw)


def public_event_id(value: uuid.UUID) -> str:
    return "evt_" + ulid_text(value.bytes)


def parse_event_id(value: str) -> uuid.UUID:
    value = value.strip()
    if EVENT_ID_RE.fullmatch(value) is None:
        raise BadRequest("eventId must be an evt_ id.")
    return uuid.UUID(bytes=ulid_from_text(value[4:]))
