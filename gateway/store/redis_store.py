"""The Redis store: the gateway's shared state, behind a small circuit breaker."""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Awaitable, Callable, Sequence
from functools import partial
from typing import Any, TypeVar

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.commands.core import AsyncScript
from redis.exceptions import NoScriptError, RedisError

from gateway.kit.time import Clock, SystemClock
from gateway.store.base import (
    Budget,
    Gate,
    GateResult,
    RateDecision,
    StoreUnavailable,
    decision,
    now_ms,
)
from gateway.store.connections import ScriptConnections
from gateway.store.scripts import script_source

log = logging.getLogger("gateway.store")
T = TypeVar("T")

# The deadline of a round trip to Redis: connecting, or a command and its reply.
# Passed explicitly, as a timeout around the round trip (see ScriptConnections),
# never as the connections' socket timeout.
REPLY_TIMEOUT_SECONDS = 1.0
# The one connection limit: the pool's, covering the client's commands and the
# connections kept for scripts (ScriptConnections) together.
MAX_CONNECTIONS = 256
KEEP_SCRIPT_CONNECTIONS = 64
# Writes that must reach Redis (revocations) and could not are kept by the process
# and replayed; past this many (an outage with a flood of revocations) the oldest go,
# and the database alone enforces those, within RECHECK_SECONDS of the store's return.
MAX_PENDING_WRITES = 10_000
# Replayed at most this many per successful call, so no one request pays for a backlog.
REPLAY_BATCH = 50


class _Script:
    """One of lua/*.lua as a redis-py Script (its SHA1 and text), run by EVALSHA on
    the script connections and loaded again through the client when Redis does not
    know it (first use, a restarted or flushed Redis)."""

    def __init__(self, client: Redis, connections: ScriptConnections, name: str) -> None:
        self.client = client
        self.connections = connections
        self.script: AsyncScript = client.register_script(script_source(name))

    async def __call__(self, keys: Sequence[str], args: Sequence[object]) -> Any:
        try:
            return await self.connections.execute("EVALSHA", self.script.sha, len(keys), *keys, *args)
        except NoScriptError:
            async with asyncio.timeout(REPLY_TIMEOUT_SECONDS):
                self.script.sha = await self.client.script_load(self.script.script)
            return await self.connections.execute("EVALSHA", self.script.sha, len(keys), *keys, *args)


def _int(value: Any) -> int | None:
    return int(value) if value is not None else None


class RedisStore:
    """Redis behind a small circuit breaker.

    Each call has a short deadline, but a Redis that stops answering (a host gone,
    a frozen process) would still add it to every request. After a failure the
    breaker opens for `cooldown` seconds, during which calls raise StoreUnavailable
    at once; then one call probes, and its success closes the breaker. Refused
    connections fail fast anyway; what the breaker saves is the timeouts."""

    def __init__(self, url: str, cooldown: float = 2.0, clock: Clock | None = None, *,
                 max_connections: int = MAX_CONNECTIONS,
                 keep_script_connections: int = KEEP_SCRIPT_CONNECTIONS) -> None:
        # Fail fast when Redis is away: callers degrade (rate limits fail open) rather
        # than hold a request for seconds.
        self.redis: Redis = Redis.from_url(
            url,
            socket_timeout=None,  # REPLY_TIMEOUT_SECONDS around each round trip instead
            socket_connect_timeout=REPLY_TIMEOUT_SECONDS,
            # One retry of a plain command after a connection error (a connection
            # Redis closed while idle). The asyncio Retry: redis.retry.Retry, given to
            # the asyncio client, returns the coroutine unawaited and never retries.
            retry=Retry(ExponentialBackoff(cap=0.05, base=0.01), 1),
            health_check_interval=30,
            max_connections=max_connections,
        )
        self._connections = ScriptConnections(self.redis.connection_pool, keep_script_connections,
                                              REPLY_TIMEOUT_SECONDS)
        self._rate_script = _Script(self.redis, self._connections, "rate")
        self._gate_script = _Script(self.redis, self._connections, "gate")
        self._raise_to = _Script(self.redis, self._connections, "raise_to")
        self._clock = clock or SystemClock()
        self._unavailable_at: float | None = None
        self._pending: dict[str, tuple[int, float]] = {}  # key: (value, expiry on the clock)
        self._replaying = False
        self.cooldown = cooldown
        self._open_until = 0.0  # time.monotonic() before which calls fail fast; 0: closed
        self.short_circuited = 0  # calls refused without touching Redis

    @property
    def circuit_open(self) -> bool:
        return self._open_until > 0.0

    def _before(self) -> None:
        if self._open_until:
            now = time.monotonic()
            if now < self._open_until:
                self.short_circuited += 1
                self._unavailable_at = self._clock.timestamp()
                raise StoreUnavailable("Redis failed recently; not retrying yet")
            self._open_until = now + self.cooldown  # this call probes; others still fail fast

    def _failed(self, exc: Exception) -> StoreUnavailable:
        if not self._open_until:
            log.warning("Redis unavailable (%s); failing fast, retrying every %.1fs",
                        type(exc).__name__, self.cooldown)
        self._open_until = time.monotonic() + self.cooldown
        self._unavailable_at = self._clock.timestamp()
        return StoreUnavailable(str(exc) or "Redis did not answer in time")

    def _succeeded(self) -> None:
        if self._open_until:
            self._open_until = 0.0
            log.info("Redis available again")

    async def _call(self, command: Callable[[], Awaitable[T]]) -> T:
        self._before()
        try:
            result = await command()
        except (RedisError, TimeoutError) as exc:
            raise self._failed(exc) from exc
        self._succeeded()
        if self._pending and not self._replaying:
            await self._replay()
        return result

    @property
    def unavailable_at(self) -> float | None:
        return self._unavailable_at

    async def raise_to(self, key: str, value: int, ttl: int) -> None:
        try:
            await self._call(lambda: self._raise_to(keys=[key], args=[value, max(1, ttl)]))
        except StoreUnavailable:
            self._keep(key, value, self._clock.timestamp() + ttl)
            raise

    def _keep(self, key: str, value: int, expires: float) -> None:
        kept = self._pending.pop(key, None)
        if kept is not None and kept[0] >= value:
            value, expires = kept
        self._pending[key] = (value, expires)  # re-inserted: the dict stays oldest first
        while len(self._pending) > MAX_PENDING_WRITES:
            del self._pending[next(iter(self._pending))]

    async def _replay(self) -> None:
        """Writes kept while the store was away, now that it answered a call."""
        self._replaying = True
        try:
            replayed = 0
            for key, (value, expires) in list(self._pending.items())[:REPLAY_BATCH]:
                ttl = math.ceil(expires - self._clock.timestamp())
                if ttl > 0:
                    try:
                        await self._call(partial(self._raise_to, keys=[key], args=[value, ttl]))
                    except StoreUnavailable:
                        return  # kept for the next successful call
                    replayed += 1
                if self._pending.get(key) == (value, expires):
                    del self._pending[key]
            if replayed:
                log.info("wrote %d revocation(s) kept while Redis was unavailable", replayed)
        finally:
            self._replaying = False

    async def _rate(self, budget: Budget, cost: int) -> RateDecision:
        now = now_ms(self._clock.timestamp())
        allowed, tat = await self._call(lambda: self._rate_script(
            keys=[budget.key], args=[now, budget.interval, budget.period_ms, cost]))
        return decision(budget, now, bool(allowed), int(tat))

    async def rate_hit(self, key: str, limit: int, period: int = 60) -> RateDecision:
        return await self._rate(Budget(key, limit, period), 1)

    async def rate_peek(self, key: str, limit: int, period: int = 60) -> RateDecision:
        return await self._rate(Budget(key, limit, period), 0)

    async def gate(self, gate: Gate) -> GateResult:
        now = now_ms(self._clock.timestamp())
        guard, spend, n = gate.guard, gate.spend, len(gate.reads)
        keys = [guard.key, *gate.reads]
        args: list[object] = [now, guard.interval, guard.period_ms, n,
                              "" if gate.stop_at is None else gate.stop_at]
        if spend is not None:
            keys.append(spend.key)
            args += [spend.interval, spend.period_ms]
        raw = await self._call(lambda: self._gate_script(keys=keys, args=args))
        guarded = decision(guard, now, bool(raw[0]), int(raw[1]))
        if not guarded.allowed:  # nothing else was read
            return GateResult(guarded, (), None)
        values = tuple(_int(v) for v in raw[2:2 + n])
        spent = (decision(spend, now, bool(raw[2 + n]), int(raw[3 + n]))
                 if spend is not None and len(raw) > 2 + n else None)
        return GateResult(guarded, values, spent)

    async def _plain(self, command: Callable[[], Awaitable[T]]) -> T:
        """A plain command of the client (the pool, its retry), within one deadline:
        connecting if needed, the command, its reply and the one retry."""
        async def timed() -> T:
            async with asyncio.timeout(REPLY_TIMEOUT_SECONDS):
                return await command()
        return await self._call(timed)

    async def get(self, key: str) -> bytes | None:
        value = await self._plain(lambda: self.redis.get(key))
        return value.encode() if isinstance(value, str) else value

    async def set(self, key: str, value: bytes | str, ttl: int) -> None:
        await self._plain(lambda: self.redis.set(key, value, ex=max(1, ttl)))

    async def set_nx(self, key: str, value: bytes | str, ttl: int) -> bool:
        return bool(await self._plain(lambda: self.redis.set(key, value, ex=max(1, ttl), nx=True)))

    async def set_xx(self, key: str, value: bytes | str, ttl: int) -> bool:
        return bool(await self._plain(lambda: self.redis.set(key, value, ex=max(1, ttl), xx=True)))

    async def delete(self, *keys: str) -> None:
        if not keys:
            return
        await self._plain(lambda: self.redis.delete(*keys))

    async def ping(self) -> bool:
        try:
            return bool(await self._plain(self.redis.ping))
        except StoreUnavailable:
            return False

    async def close(self) -> None:
        await self._connections.close()
        await self.redis.aclose()
