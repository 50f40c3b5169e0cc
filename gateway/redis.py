"""The shared store: Redis in production, an in-memory store of the same behaviour
for a single process. Everything Redis holds for the gateway goes through here."""

from __future__ import annotations

import asyncio
import logging
import math
from dataclasses import dataclass
from typing import Protocol

from redis.asyncio import Redis
from redis.backoff import ExponentialBackoff
from redis.exceptions import RedisError
from redis.retry import Retry

from gateway.kit.time import Clock, SystemClock

log = logging.getLogger("gateway.store")


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


# GCRA (the generic cell rate algorithm): one key per budget holding the "theoretical
# arrival time". A budget of `limit` per `period` admits a burst of `limit` and then
# one request every period/limit; unlike a fixed window it never admits 2x at a window
# edge, and unlike a sliding log it stores one number. Redis' own clock is used so
# that every gateway process shares one timeline. cost 0 asks "would one more be
# allowed?" without spending (used to refuse IPs over their failure budget).
_GCRA_FUNCTION = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local function gcra(key, interval, period, cost)
  local tat = tonumber(redis.call('GET', key) or now)
  if tat < now then tat = now end
  local new_tat = tat + interval
  local allow_at = new_tat - period
  if now < allow_at then
    return {0, 0, math.ceil(allow_at - now), math.ceil(tat - now)}
  end
  if cost > 0 then
    tat = new_tat
    redis.call('SET', key, string.format('%.0f', tat), 'PX', math.ceil(tat - now))
  end
  return {1, math.floor((period - (tat - now)) / interval), 0, math.ceil(tat - now)}
end
"""
_GCRA = _GCRA_FUNCTION + """
return gcra(KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]))
"""
# createPortalLink's two budgets in one round trip: "is this IP past its failure
# budget?" (no spending) and, only if not, one link from the key's budget. KEYS are
# the IP's key and the key's link key; they hash to different cluster slots, which a
# single Redis (all the gateway uses) does not mind.
_PEEK_THEN_HIT = _GCRA_FUNCTION + """
local peek = gcra(KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), 0)
if peek[1] == 0 then
  return {0, 0, peek[3], peek[4], 0, 0, 0, 0}
end
local hit = gcra(KEYS[2], tonumber(ARGV[3]), tonumber(ARGV[4]), 1)
return {1, peek[2], 0, peek[4], hit[1], hit[2], hit[3], hit[4]}
"""


def _decision(limit: int, allowed: int, remaining: int, retry_ms: int, reset_ms: int) -> RateDecision:
    return RateDecision(
        allowed=bool(allowed),
        limit=limit,
        remaining=max(0, int(remaining)),
        retry_after=math.ceil(retry_ms / 1000) if not allowed else 0,
        reset=math.ceil(max(0, reset_ms) / 1000),
    )


class Store(Protocol):
    async def rate_hit(self, key: str, limit: int, period: int = 60) -> RateDecision: ...

    async def rate_peek(self, key: str, limit: int, period: int = 60) -> RateDecision: ...

    async def get(self, key: str) -> bytes | None: ...

    async def get_many(self, *keys: str) -> list[bytes | None]: ...

    async def set(self, key: str, value: bytes | str, ttl: int) -> None: ...

    async def set_nx(self, key: str, value: bytes | str, ttl: int) -> bool: ...

    async def delete(self, *keys: str) -> None: ...

    async def ping(self) -> bool: ...

    async def close(self) -> None: ...

    async def rate_peek_then_hit(
        self, peek_key: str, peek_limit: int, hit_key: str, hit_limit: int, period: int = 60
    ) -> tuple[RateDecision, RateDecision | None]:
        """Peek at one budget and, only if it allows, spend one from another, as one
        operation. The second decision is None when the first refused."""
        ...


class RedisStore:
    def __init__(self, url: str) -> None:
        # Fail fast when Redis is away: callers degrade (rate limits fail open) rather
        # than hold a request for seconds.
        self.redis: Redis = Redis.from_url(
            url,
            socket_timeout=1.0,
            socket_connect_timeout=1.0,
            retry=Retry(ExponentialBackoff(cap=0.05, base=0.01), 1),
            health_check_interval=30,
            max_connections=256,
        )
        self._gcra = self.redis.register_script(_GCRA)
        self._peek_then_hit = self.redis.register_script(_PEEK_THEN_HIT)

    async def _rate(self, key: str, limit: int, period: int, cost: int) -> RateDecision:
        period_ms = period * 1000
        try:
            raw = await self._gcra(keys=[key], args=[period_ms / limit, period_ms, cost])
        except RedisError as exc:
            raise StoreUnavailable(str(exc)) from exc
        return _decision(limit, *(int(v) for v in raw))

    async def rate_hit(self, key: str, limit: int, period: int = 60) -> RateDecision:
        return await self._rate(key, limit, period, 1)

    async def rate_peek(self, key: str, limit: int, period: int = 60) -> RateDecision:
        return await self._rate(key, limit, period, 0)

    async def get(self, key: str) -> bytes | None:
        try:
            value: bytes | None = await self.redis.get(key)
        except RedisError as exc:
            raise StoreUnavailable(str(exc)) from exc
        return value

    async def get_many(self, *keys: str) -> list[bytes | None]:
        try:
            values: list[bytes | None] = await self.redis.mget(keys)
        except RedisError as exc:
            raise StoreUnavailable(str(exc)) from exc
        return values

    async def set(self, key: str, value: bytes | str, ttl: int) -> None:
        try:
            await self.redis.set(key, value, ex=max(1, ttl))
        except RedisError as exc:
            raise StoreUnavailable(str(exc)) from exc

    async def set_nx(self, key: str, value: bytes | str, ttl: int) -> bool:
        try:
            return bool(await self.redis.set(key, value, ex=max(1, ttl), nx=True))
        except RedisError as exc:
            raise StoreUnavailable(str(exc)) from exc

    async def delete(self, *keys: str) -> None:
        if not keys:
            return
        try:
            await self.redis.delete(*keys)
        except RedisError as exc:
            raise StoreUnavailable(str(exc)) from exc

    async def ping(self) -> bool:
        try:
            return bool(await self.redis.ping())
        except RedisError:
            return False

    async def close(self) -> None:
        await self.redis.aclose()

    async def rate_peek_then_hit(
        self, peek_key: str, peek_limit: int, hit_key: str, hit_limit: int, period: int = 60
    ) -> tuple[RateDecision, RateDecision | None]:
        period_ms = period * 1000
        try:
            raw = await self._peek_then_hit(
                keys=[peek_key, hit_key],
                args=[period_ms / peek_limit, period_ms, period_ms / hit_limit, period_ms])
        except RedisError as exc:
            raise StoreUnavailable(str(exc)) from exc
        values = [int(v) for v in raw]
        peek = _decision(peek_limit, *values[:4])
        return peek, _decision(hit_limit, *values[4:]) if peek.allowed else None


class MemoryStore:
    """Single-process stand-in for Redis with the same semantics (TTLs included)."""

    def __init__(self, clock: Clock | None = None) -> None:
        self._clock = clock or SystemClock()
        self._data: dict[str, tuple[bytes, float]] = {}
        self._lock = asyncio.Lock()
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

    def _rate(self, key: str, limit: int, period: int, cost: int) -> RateDecision:
        now = self._now() * 1000
        period_ms = period * 1000
        interval = period_ms / limit
        stored = self._live(key)
        tat = max(float(stored) if stored is not None else now, now)
        allow_at = tat + interval - period_ms
        if now < allow_at:
            return _decision(limit, 0, 0, math.ceil(allow_at - now), math.ceil(tat - now))
        if cost > 0:
            tat += interval
            self._put(key, f"{tat:.0f}", (tat - now) / 1000)
        return _decision(limit, 1, math.floor((period_ms - (tat - now)) / interval), 0,
                         math.ceil(tat - now))

    async def rate_hit(self, key: str, limit: int, period: int = 60) -> RateDecision:
        return self._rate(key, limit, period, 1)

    async def rate_peek(self, key: str, limit: int, period: int = 60) -> RateDecision:
        return self._rate(key, limit, period, 0)

    async def get(self, key: str) -> bytes | None:
        return self._live(key)

    async def get_many(self, *keys: str) -> list[bytes | None]:
        return [self._live(key) for key in keys]

    async def set(self, key: str, value: bytes | str, ttl: int) -> None:
        self._put(key, value, max(1, ttl))

    async def set_nx(self, key: str, value: bytes | str, ttl: int) -> bool:
        if self._live(key) is not None:
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

    async def rate_peek_then_hit(
        self, peek_key: str, peek_limit: int, hit_key: str, hit_limit: int, period: int = 60
    ) -> tuple[RateDecision, RateDecision | None]:
        peek = self._rate(peek_key, peek_limit, period, 0)
        return peek, self._rate(hit_key, hit_limit, period, 1) if peek.allowed else None


def create_store(url: str | None, clock: Clock | None = None) -> Store:
    return RedisStore(url) if url else MemoryStore(clock)
