"""Event ids: a ULID, stored as the UUID of the same 128 bits (time-ordered keys on
every backend), shown as evt_ + its 26 lower-case base32 characters."""

from __future__ import annotations

import re
import uuid

from ulid import ULID

from gateway.errors import BadRequest

EVENT_ID_RE = re.compile(r"evt_[0-9a-hjkmnp-tv-z]{26}")


def new_event_ids(timestamp: float) -> tuple[uuid.UUID, str]:
    """A new event's id, stored and shown (one ULID made, not converted back)."""
    ulid = ULID.from_timestamp(timestamp)
    return ulid.to_uuid(), "evt_" + str(ulid).lower()


def public_event_id(value: uuid.UUID) -> str:
    return "evt_" + str(ULID.from_uuid(value)).lower()


def parse_event_id(value: str) -> uuid.UUID:
    value = value.strip()
    if EVENT_ID_RE.fullmatch(value) is None:
        raise BadRequest("eventId must be an evt_ id.")
    return ULID.from_str(value[4:].upper()).to_uuid()
