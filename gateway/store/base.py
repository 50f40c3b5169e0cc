"""The store's interface, shared by the Redis store and the in-memory store: its
types, the protocol, and the GCRA arithmetic both stores run."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol


class StoreUnavailable(Exception):
    """The shared store could not be reached."""


@dataclass(frozen=True, slots=True)
class RateDecision:
    allowed: bool
    limit: int
    remaining: int
    retry_after: int  # whole seconds until one more request is allowed (0 if allowed)
    reset: int  # whole seconds until the full budget is back

    def headers(self) -> dict[str, str]:
        return {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(self.reset),
        }


class Budget:
    """`limit` requests per `period` seconds under one key; `period_ms` and `interval`
    (milliseconds between requests at the steady rate) are the GCRA's terms. Built
    per request: a plain class with slots, not a frozen dataclass (its __init__ sets
    each field through object.__setattr__) with computed properties."""

    __slots__ = ("interval", "key", "limit", "period", "period_ms")

    def __init__(self, key: str, limit: int, period: int = 60) -> None:
        self.key = key
        self.limit = limit
        self.period = period
        self.period_ms = period * 1000
        self.interval = self.period_ms / limit

    def __repr__(self) -> str:
        return f"Budget({self.key!r}, {self.limit}, {self.period})"


@dataclass(frozen=True, slots=True)
class Gate:
    """A request's store checks as one operation (lua/gate.lua), in the order their
    answers take precedence: peek at `guard` (a failure budget, never spent here);
    only if it allows, read `reads`; then, unless the first value read is a number
    at least `stop_at` (a revocation that covers the request), spend one from
    `spend`."""

    guard: Budget
    reads: tuple[str, ...] = ()
    stop_at: int | None = None
    spend: Budget | None = None


@dataclass(frozen=True, slots=True)
class GateResult:
    guard: RateDecision
    values: tuple[int | None, ...]  # one per read; empty when the guard refused
    spent: RateDecision | None  # None when not reached (guard refused, stopped, no spend)


def now_ms(timestamp: float) -> int:
    """The GCRA's clock: whole milliseconds of the caller's clock, for both stores.
    With a fractional `now` against a stored arrival time in whole milliseconds, the
    last request of a burst could be refused."""
    return math.floor(timestamp * 1000)


def gcra_step(stored: int | None, now: int, budget: Budget, cost: int) -> tuple[bool, int]:
    """The GCRA's decision and the arrival time after it: lua/gcra.lua, line for line,
    for the in-memory store. The caller writes the new time when it spends."""
    tat = max(stored if stored is not None else now, now)
    if now < tat + budget.interval - budget.period_ms:
        return False, tat
    if cost > 0:
        tat = math.floor(tat + budget.interval + 0.5)
    return True, tat


def decision(budget: Budget, now: int, allowed: bool, tat: int) -> RateDecision:
    """What a GCRA step means to a client (both stores): remaining requests of the
    burst, seconds until one more is allowed, seconds until the whole budget is back."""
    reset = math.ceil(max(0, tat - now) / 1000)
    if not allowed:
        allow_at = tat + budget.interval - budget.period_ms
        return RateDecision(False, budget.limit, 0, math.ceil((allow_at - now) / 1000), reset)
    remaining = math.floor((budget.period_ms - (tat - now)) / budget.interval)
    return RateDecision(True, budget.limit, max(0, remaining), 0, reset)


class Store(Protocol):
    async def rate_hit(self, key: str, limit: int, period: int = 60) -> RateDecision: ...

    async def rate_peek(self, key: str, limit: int, period: int = 60) -> RateDecision:
        """Would one more request be allowed? Nothing is spent."""
        ...

    async def gate(self, gate: Gate) -> GateResult: ...

    async def raise_to(self, key: str, value: int, ttl: int) -> None:
        """Set `key` to `value` unless it holds a number at least as large. One that
        cannot be written is kept and written when the store answers again; the
        call still raises StoreUnavailable."""
        ...

    @property
    def unavailable_at(self) -> float | None:
        """When (the gateway clock's time) this process last found the store
        unavailable; None if never."""
        ...

    async def get(self, key: str) -> bytes | None: ...

    async def set(self, key: str, value: bytes | str, ttl: int) -> None: ...

    async def set_nx(self, key: str, value: bytes | str, ttl: int) -> bool: ...

    async def set_xx(self, key: str, value: bytes | str, ttl: int) -> bool: ...

    async def delete(self, *keys: str) -> None: ...

    async def ping(self) -> bool: ...

    async def close(self) -> None: ...
