from __future__ import annotations

import base64
import uuid
from datetime import datetime

from gateway.errors import BadRequest


def encode_cursor(created_at: datetime, row_id: uuid.UUID) -> str:
    raw = f"{created_at.timestamp():.6f}|{row_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    from gateway.kit.time import from_unix

    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        ts, row_id = base64.urlsafe_b64decode(padded.encode()).decode().split("|")
        return from_unix(float(ts)), uuid.UUID(row_id)
    except (ValueError, UnicodeDecodeError):
        raise BadRequest("Invalid cursor.") from None
