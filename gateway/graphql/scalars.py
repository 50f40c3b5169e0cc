from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import cast

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

# An ID's text. strawberry.ID is a NewType of str, so calling it is a Python function
# that returns its argument; this is str itself, typed as making an ID (a page of
# payments makes twenty of them, the merchant lists up to a hundred).
text_id = cast(Callable[[object], strawberry.ID], str)
