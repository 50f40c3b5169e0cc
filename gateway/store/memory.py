"""The in-memory store: a single process's stand-in for Redis, with the same
behaviour (TTLs included) and the same clock: the caller's, as the scripts."""

from __future__ import annotations

from gateway.kit.time import Clock, SystemClock
from gateway.store.base import (
    Budget,
    Gate,
    GateResult,
    RateDecision,
    decision,
    gcra_step,
    now_ms,
)


class MemoryStore:
    """Operations run without an await between their steps, so each is atomic for
    this process, as a script is for Redis."""

    def __init__(self, clock: Clock | None = None) -> None:
        self._clock = clock or SystemClock()
        self._data: dict[str, tuple[bytes, float]] = {}
        self._ops = 0

    def _now(self) -> float:
        return self._clock.timestamp()

    def _live(self, key: str) -> bytes | None:
        item = self._data.get(key)
        if item is None:
            return None
        if item[1] <= self._now():
            del self._data[key]
            return None
        return item[0]

    def _sweep(self) -> None:
        # Expired keys are dropped lazily on access and, every 1,000 writes, in bulk,
        # so memory stays bounded by the live keys.
        self._ops += 1
        if self._ops % 1000 == 0:
            now = self._now()
            for key in [k for k, (_, exp) in self._data.items() if exp <= now]:
                del self._data[key]

    def _put(self, key: str, value: bytes | str, ttl: float) -> None:
        data = value.encode() if isinstance(value, str) else value
        self._data[key] = (data, self._now() + ttl)
        self._sweep()

    def _int(self, key: str) -> int | None:
        value = self._live(key)
        return int(value) if value is not None else None

    def _gcra(self, budget: Budget, now: int, cost: int) -> tuple[bool, int]:
        allowed, tat = gcra_step(self._int(budget.key), now, budget, cost)
        if allowed and cost > 0:
            self._put(budget.key, str(tat), max(1, tat - now) / 1000)
        return allowed, tat

    def _rate(self, budget: Budget, cost: int) -> RateDecision:
        now = now_ms(self._now())
        return decision(budget, now, *self._gcra(budget, now, cost))

    async def rate_hit(self, key: str, limit: int, period: int = 60) -> RateDecision:
        return self._rate(Budget(key, limit, period), 1)

    async def rate_peek(self, key: str, limit: int, period: int = 60) -> RateDecision:
        return self._rate(Budget(key, limit, period), 0)

    async def gate(self, gate: Gate) -> GateResult:
        now = now_ms(self._now())
        guard = decision(gate.guard, now, *self._gcra(gate.guard, now, 0))
        if not guard.allowed:
            return GateResult(guard, (), None)
        values = tuple(self._int(key) for key in gate.reads)
        first = values[0] if values else None
        if gate.spend is None or (gate.stop_at is not None and first is not None
                                  and first >= gate.stop_at):
            return GateResult(guard, values, None)
        return GateResult(guard, values, decision(gate.spend, now, *self._gcra(gate.spend, now, 1)))

    async def raise_to(self, key: str, value: int, ttl: int) -> None:
        current = self._int(key)
        if current is None or current < value:
            self._put(key, str(value), max(1, ttl))

    @property
    def unavailable_at(self) -> float | None:
        return None

    async def get(self, key: str) -> bytes | None:
        return self._live(key)

    async def set(self, key: str, value: bytes | str, ttl: int) -> None:
        self._put(key, value, max(1, ttl))

    async def set_nx(self, key: str, value: bytes | str, ttl: int) -> bool:
        if self._live(key) is not None:
            return False
        self._put(key, value, max(1, ttl))
        return True

    async def set_xx(self, key: str, value: bytes | str, ttl: int) -> bool:
        """Overwrite only a live key: a write racing a delete cannot bring it back."""
        if self._live(key) is None:
            return False
        self._put(key, value, max(1, ttl))
        return True

    async def delete(self, *keys: str) -> None:
        for key in keys:
            self._data.pop(key, None)

    async def ping(self) -> bool:
        return True

    async def close(self) -> None:
        self._data.clear()
