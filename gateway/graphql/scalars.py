from __future__ import annotations

from datetime import datetime

import strawberry

from gateway.kit.time import iso_ms


def _parse_datetime(value: object) -> datetime:
    if not isinstance(value, str):
        raise ValueError("DateTime must be an ISO 8601 string such as 2026-04-20T10:00:00.000Z")
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError("DateTime must carry a time zone (Z or an offset)")
    return parsed


DateTime = strawberry.scalar(
    name="DateTime",
    description="UTC instant in ISO 8601 with milliseconds and Z: 2026-04-20T10:00:00.000Z.",
    serialize=iso_ms,
    parse_value=_parse_datetime,
)
