"""The shared store: Redis in production, an in-memory store of the same behaviour
for a single process. Everything Redis holds for the gateway goes through here."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import math
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, Protocol, TypeVar

from redis.asyncio import Redis
from redis.asyncio.connection import AbstractConnection
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError, RedisError, ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.retry import Retry

from gateway.kit.time import Clock, SystemClock

log = logging.getLogger("gateway.store")
T = TypeVar("T")


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
# Everything a portal request asks of the store, in one round trip and in the order
# the answers take precedence: the client IP's failure budget (a peek: an IP past it
# learns nothing more), the customer's revocation and the link's cached verification,
# then one request from the link's budget, not spent on a revoked link.
# KEYS: the IP's failure budget, the revocation, the verified link, the link's budget.
# ARGV: the IP budget's interval and period (ms), the link budget's, the link's issue time.
#
# Slots: the last three keys carry the {company} hash tag; the IP's does not, since
# failed API keys and sign-ins, which name no company, spend the same budget. A
# per-company copy of that budget would let an IP spread its guesses over many
# companies and get one budget each, so the script reads the global key and needs a
# single Redis (the gateway's client is not a Cluster client). Under Redis Cluster the
# peek would have to become a call of its own, ahead of this script.
_PORTAL_GATE = _GCRA_FUNCTION + """
local ip = gcra(KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), 0)
if ip[1] == 0 then
  return {ip[1], ip[2], ip[3], ip[4], false, false}
end
local revoked = redis.call('GET', KEYS[2])
local verified = redis.call('GET', KEYS[3])
if revoked and tonumber(revoked) >= tonumber(ARGV[5]) then
  return {ip[1], ip[2], ip[3], ip[4], revoked, verified}
end
local hit = gcra(KEYS[4], tonumber(ARGV[3]), tonumber(ARGV[4]), 1)
return {ip[1], ip[2], ip[3], ip[4], revoked, verified, hit[1], hit[2], hit[3], hit[4]}
"""


# Raise a number, never lower it: for revocation cutoffs, so that an older cutoff
# written late (a put-back, a replay) cannot undo a newer one.
_RAISE_TO = """
local current = tonumber(redis.call('GET', KEYS[1]))
if current and current >= tonumber(ARGV[1]) then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
return 1
"""
# Writes that must reach Redis (revocations) and could not are kept by the process
# and replayed; past this many (an outage with a flood of revocations) the oldest go,
# and the database alone enforces those, within RECHECK_SECONDS of the store's return.
MAX_PENDING_WRITES = 10_000
# Replayed at most this many per successful call, so no one request pays for a backlog.
REPLAY_BATCH = 50


def _decision(limit: int, allowed: int, remaining: int, retry_ms: int, reset_ms: int) -> RateDecision:
    return RateDecision(
        allowed=bool(allowed),
        limit=limit,
        remaining=max(0, int(remaining)),
        retry_after=math.ceil(retry_ms / 1000) if not allowed else 0,
        reset=math.ceil(max(0, reset_ms) / 1000),
    )


@dataclass(frozen=True, slots=True)
class PortalGate:
    """The store's part of checking one portal request (see _PORTAL_GATE)."""

    ip_key: str
    ip_limit: int
    revocation_key: str
    verified_key: str
    rate_key: str
    rate_limit: int
    issued_at: int  # the link's; a revocation at or after it covers the link
    period: int = 60


@dataclass(frozen=True, slots=True)
class PortalGateResult:
    ip: RateDecision  # refused: the IP is past its failure budget and nothing else was read
    revoked: int | None  # the customer's revocation cutoff, if Redis holds one
    verified: int | None  # when the link's verification was cached, if it was
    rate: RateDecision | None  # the link's budget; None when not spent (IP refused, link revoked)


def _gate_result(gate: PortalGate, raw: list[bytes | int | None]) -> PortalGateResult:
    ip = _decision(gate.ip_limit, *(int(v or 0) for v in raw[:4]))
    revoked, verified = (int(v) if v is not None else None for v in raw[4:6])
    rate = _decision(gate.rate_limit, *(int(v or 0) for v in raw[6:10])) if len(raw) > 6 else None
    return PortalGateResult(ip, revoked, verified, rate)


class Store(Protocol):
    async def rate_hit(self, key: str, limit: int, period: int = 60) -> RateDecision: ...

    async def rate_peek(self, key: str, limit: int, period: int = 60) -> RateDecision: ...

    async def portal_gate(self, gate: PortalGate) -> PortalGateResult: ...

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

    async def rate_peek_then_hit(
        self, peek_key: str, peek_limit: int, hit_key: str, hit_limit: int, period: int = 60
    ) -> tuple[RateDecision, RateDecision | None]:
        """Peek at one budget and, only if it allows, spend one from another, as one
        operation. The second decision is None when the first refused."""
        ...


RETRY_BACKOFF_SECONDS = 0.02  # the client's ExponentialBackoff(base=0.01) after one failure


class _Connections:
    """The store's script calls, on connections of redis-py's own class and settings
    (timeouts, protocol, credentials, parser), checked out of a plain list.

    redis-py's client wraps every command in per-call work the store does not use:
    the pool's lock, a check that an idle connection has nothing unread, metrics
    and event hooks, operation-duration recording, a deprecation wrapper. For the
    one EVALSHA of a createPortalLink or portal request that was a quarter of the
    request's CPU in the profile. Here a command is sent and its reply read, with
    one retry after a connection error or timeout (a connection the server closed
    while idle costs nothing, so no PING is sent first after an idle spell). A
    connection that fails or is interrupted is dropped, never reused; a reply that
    is an error (NOSCRIPT, a script error) leaves it in a clean state, so it goes
    back to the list."""

    def __init__(self, client: Redis, keep: int, limit: int) -> None:
        self.pool = client.connection_pool
        self.keep = keep
        self.limit = limit
        self.reply_timeout = self.pool.connection_kwargs.get("socket_timeout") or 1.0
        self.idle: list[AbstractConnection] = []
        self.in_use = 0

    async def execute(self, *args: Any) -> Any:
        if self.in_use >= self.limit:  # as redis-py's pool at max_connections
            raise RedisConnectionError("Too many connections")
        conn = self.idle.pop() if self.idle else self.pool.connection_class(
            **{**self.pool.connection_kwargs, "health_check_interval": 0})
        self.in_use += 1
        try:
            return await self._execute(conn, args)
        finally:
            self.in_use -= 1

    async def _execute(self, conn: AbstractConnection, args: tuple[Any, ...]) -> Any:
        try:
            try:
                reply = await self._send(conn, args)
            except (RedisConnectionError, RedisTimeoutError):
                # One retry on a fresh connection after a short backoff, as the
                # client's Retry setting, without its wrapping on the first attempt.
                await conn.disconnect()
                await asyncio.sleep(RETRY_BACKOFF_SECONDS)
                reply = await self._send(conn, args)
        except ResponseError:
            self._put_back(conn)
            raise
        except BaseException:
            await asyncio.shield(conn.disconnect(nowait=True))
            raise
        self._put_back(conn)
        return reply

    async def _send(self, conn: AbstractConnection, args: tuple[Any, ...]) -> Any:
        # No timeout on the send (redis-py would start a task per command for it): a
        # few hundred bytes go to the socket's buffer; a Redis that does not answer
        # is caught by the timeout on its reply.
        if not conn.is_connected:
            conn.socket_timeout = self.reply_timeout  # the handshake's replies
            await conn.connect()  # type: ignore[no-untyped-call]
        conn.socket_timeout = None
        await conn.send_command(*args)
        # The reply waits with the timeout (given as the connection's: a timeout
        # passed to read_response would make redis-py return None instead of raising).
        conn.socket_timeout = self.reply_timeout
        return await conn.read_response()

    def _put_back(self, conn: AbstractConnection) -> None:
        if len(self.idle) < self.keep:
            self.idle.append(conn)
        else:
            asyncio.get_running_loop().create_task(conn.disconnect())

    async def close(self) -> None:
        idle, self.idle = self.idle, []
        for conn in idle:
            await conn.disconnect()


class _Script:
    """A Lua script run by its SHA1 (EVALSHA), loaded on the server when it does not
    know it yet (first use, a restarted or flushed Redis)."""

    def __init__(self, connections: _Connections, client: Redis, source: str) -> None:
        self.connections = connections
        self.client = client
        self.source = source
        self.sha = hashlib.sha1(source.encode(), usedforsecurity=False).hexdigest()

    async def __call__(self, keys: Sequence[str], args: Sequence[object]) -> Any:
        try:
            return await self.connections.execute("EVALSHA", self.sha, len(keys), *keys, *args)
        except NoScriptError:
            self.sha = await self.client.script_load(self.source)
            return await self.connections.execute("EVALSHA", self.sha, len(keys), *keys, *args)


class RedisStore:
    """Redis behind a small circuit breaker.

    The client's timeouts are short, but a Redis that stops answering (a host gone,
    a frozen process) would still add them to every request. After a failure the
    breaker opens for `cooldown` seconds, during which calls raise StoreUnavailable
    at once; then one call probes, and its success closes the breaker. Refused
    connections fail fast anyway; what the breaker saves is the timeouts."""

    def __init__(self, url: str, cooldown: float = 2.0, clock: Clock | None = None) -> None:
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
        self._scripts = _Connections(self.redis, keep=64, limit=256)
        self._gcra = _Script(self._scripts, self.redis, _GCRA)
        self._portal_gate = _Script(self._scripts, self.redis, _PORTAL_GATE)
        self._peek_then_hit = _Script(self._scripts, self.redis, _PEEK_THEN_HIT)
        self._raise_to = _Script(self._scripts, self.redis, _RAISE_TO)
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

    def _failed(self, exc: RedisError) -> StoreUnavailable:
        if not self._open_until:
            log.warning("Redis unavailable (%s); failing fast, retrying every %.1fs",
                        type(exc).__name__, self.cooldown)
        self._open_until = time.monotonic() + self.cooldown
        self._unavailable_at = self._clock.timestamp()
        return StoreUnavailable(str(exc))

    def _succeeded(self) -> None:
        if self._open_until:
            self._open_until = 0.0
            log.info("Redis available again")

    async def _call(self, command: Callable[[], Awaitable[T]]) -> T:
        self._before()
        try:
            result = await command()
        except RedisError as exc:
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

    async def _rate(self, key: str, limit: int, period: int, cost: int) -> RateDecision:
        period_ms = period * 1000
        raw = await self._call(lambda: self._gcra(keys=[key], args=[period_ms / limit, period_ms, cost]))
        return _decision(limit, *(int(v) for v in raw))

    async def rate_hit(self, key: str, limit: int, period: int = 60) -> RateDecision:
        return await self._rate(key, limit, period, 1)

    async def rate_peek(self, key: str, limit: int, period: int = 60) -> RateDecision:
        return await self._rate(key, limit, period, 0)

    async def rate_peek_then_hit(
        self, peek_key: str, peek_limit: int, hit_key: str, hit_limit: int, period: int = 60
    ) -> tuple[RateDecision, RateDecision | None]:
        period_ms = period * 1000
        raw = await self._call(lambda: self._peek_then_hit(
            keys=[peek_key, hit_key],
            args=[period_ms / peek_limit, period_ms, period_ms / hit_limit, period_ms]))
        values = [int(v) for v in raw]
        peek = _decision(peek_limit, *values[:4])
        return peek, _decision(hit_limit, *values[4:]) if peek.allowed else None

    async def portal_gate(self, gate: PortalGate) -> PortalGateResult:
        period_ms = gate.period * 1000
        raw = await self._call(lambda: self._portal_gate(
            keys=[gate.ip_key, gate.revocation_key, gate.verified_key, gate.rate_key],
            args=[period_ms / gate.ip_limit, period_ms, period_ms / gate.rate_limit, period_ms,
                  gate.issued_at],
        ))
        return _gate_result(gate, list(raw))

    async def get(self, key: str) -> bytes | None:
        value = await self._call(lambda: self.redis.get(key))
        return value.encode() if isinstance(value, str) else value

    async def set(self, key: str, value: bytes | str, ttl: int) -> None:
        await self._call(lambda: self.redis.set(key, value, ex=max(1, ttl)))

    async def set_nx(self, key: str, value: bytes | str, ttl: int) -> bool:
        return bool(await self._call(lambda: self.redis.set(key, value, ex=max(1, ttl), nx=True)))

    async def set_xx(self, key: str, value: bytes | str, ttl: int) -> bool:
        return bool(await self._call(lambda: self.redis.set(key, value, ex=max(1, ttl), xx=True)))

    async def delete(self, *keys: str) -> None:
        if not keys:
            return
        await self._call(lambda: self.redis.delete(*keys))

    async def ping(self) -> bool:
        try:
            return bool(await self._call(self.redis.ping))
        except StoreUnavailable:
            return False

    async def close(self) -> None:
        await self._scripts.close()
        await self.redis.aclose()


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
        # Whole milliseconds, as the script's clock: with a fractional `now` against a
        # stored arrival time rounded up, the last request of a burst could be refused.
        now = float(math.floor(self._now() * 1000))
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

    async def rate_peek_then_hit(
        self, peek_key: str, peek_limit: int, hit_key: str, hit_limit: int, period: int = 60
    ) -> tuple[RateDecision, RateDecision | None]:
        peek = self._rate(peek_key, peek_limit, period, 0)
        return peek, self._rate(hit_key, hit_limit, period, 1) if peek.allowed else None

    async def portal_gate(self, gate: PortalGate) -> PortalGateResult:
        # No await between the steps: atomic for this process, as the script is for Redis.
        ip = self._rate(gate.ip_key, gate.ip_limit, gate.period, 0)
        if not ip.allowed:
            return PortalGateResult(ip, None, None, None)
        revoked, verified = (int(v) if (v := self._live(key)) is not None else None
                             for key in (gate.revocation_key, gate.verified_key))
        if revoked is not None and revoked >= gate.issued_at:
            return PortalGateResult(ip, revoked, verified, None)
        rate = self._rate(gate.rate_key, gate.rate_limit, gate.period, 1)
        return PortalGateResult(ip, revoked, verified, rate)

    async def raise_to(self, key: str, value: int, ttl: int) -> None:
        current = self._live(key)
        if current is None or int(current) < value:
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


def create_store(url: str | None, clock: Clock | None = None) -> Store:
    return RedisStore(url, clock=clock) if url else MemoryStore(clock)
