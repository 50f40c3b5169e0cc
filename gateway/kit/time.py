from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...

    def timestamp(self) -> float: ...

    async def sleep(self, seconds: float) -> None:
        """Wait: a deliberate delay (a throttled sign-in) goes through the clock, so a
        test sees it pass without waiting."""


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def timestamp(self) -> float:
        return time.time()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class FrozenClock:
    """A clock tests move by hand, so expiry is tested without sleeping."""

    def __init__(self, at: datetime | float) -> None:
        self._ts = at.timestamp() if isinstance(at, datetime) else float(at)

    def now(self) -> datetime:
        return datetime.fromtimestamp(self._ts, UTC)

    def timestamp(self) -> float:
        return self._ts

    def advance(self, seconds: float) -> None:
        self._ts += seconds

    async def sleep(self, seconds: float) -> None:
        self.advance(seconds)
        await asyncio.sleep(0)

    def set(self, at: datetime | float) -> None:
        self._ts = at.timestamp() if isinstance(at, datetime) else float(at)


def iso_ms(value: datetime) -> str:
    """UTC ISO 8601 with milliseconds and Z, the contract's timestamp format."""
    zone = value.tzinfo
    if zone is not UTC:  # the driver's values are UTC already: no conversion
        value = value.replace(tzinfo=UTC) if zone is None else value.astimezone(UTC)
    if value.year >= 1000:  # isoformat pads years to four digits, strftime does not
        # Same text, a third of strftime's cost (the portal query formats ~45 of these).
        return value.isoformat(timespec="milliseconds")[:-6] + "Z"
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def from_unix(seconds: int | float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def parse_iso(value: str) -> datetime:
    """The inverse of iso_ms (any ISO 8601 with a zone, in fact)."""
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)
