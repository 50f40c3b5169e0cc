"""The Redis store on a Redis Cluster (REDIS_CLUSTER=true): the same store, keys
and scripts, through redis-py's RedisCluster.

Every script touches one slot. A company's keys share its `{company}` hash tag
(gateway/keys.py), so a portal link's revocation, cached verification and budget
are read and spent by one script on one shard. What names no company (a client IP's
failure budget, an API key's revocation mark) hashes elsewhere, so a Gate runs as
two round trips instead of one:

1. the IP's failure budget is peeked, and in parallel the reads that are not in the
   spent budget's slot are fetched (an API key's revocation mark);
2. only if the peek allows and no revocation read in step 1 stops the request, the
   gate script runs on the company's slot, without its peek: the remaining reads
   and the spend.

So the answers are the single Redis' answers: an IP past its budget spends nothing
and is told nothing else, and a revoked link or key spends nothing. The single-Redis
store keeps its one round trip; nothing here runs for it."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable, Sequence
from functools import partial
from typing import Any, TypeVar

from redis.asyncio import RedisCluster
from redis.crc import key_slot
from redis.exceptions import NoScriptError, RedisClusterException

from gateway.kit.time import Clock
from gateway.store.base import Gate, GateResult, decision, now_ms
from gateway.store.redis_store import (
    MAX_CONNECTIONS,
    REPLY_TIMEOUT_SECONDS,
    RedisStore,
    after_guard,
    int_or_none,
)
from gateway.store.scripts import script_source

T = TypeVar("T")
# Learning the cluster's layout (a node's CLUSTER SLOTS, then a connection to each
# primary) takes several round trips: it gets a deadline of its own, not a reply's.
DISCOVERY_TIMEOUT_SECONDS = 5.0


class _ClusterScript:
    """One of lua/*.lua by EVALSHA, routed by RedisCluster to the shard of its keys'
    slot; a shard that does not know it (first use, a promoted replica, a restarted
    node) gets EVAL, which runs the script and caches it there."""

    def __init__(self, client: RedisCluster, name: str) -> None:
        self.client = client
        self.source = script_source(name)
        self.sha = hashlib.sha1(self.source.encode(), usedforsecurity=False).hexdigest()

    async def __call__(self, keys: Sequence[str], args: Sequence[object]) -> Any:
        async with asyncio.timeout(REPLY_TIMEOUT_SECONDS):
            try:
                return await self.client.evalsha(self.sha, len(keys), *keys, *args)  # type: ignore[arg-type]
            except NoScriptError:
                return await self.client.eval(self.source, len(keys), *keys, *args)  # type: ignore[arg-type]


async def _together(*calls: Awaitable[Any]) -> list[Any]:
    """Calls sent in parallel (to different shards) within one deadline; every one is
    awaited before the first failure is raised, so none is left running."""
    async with asyncio.timeout(REPLY_TIMEOUT_SECONDS):
        results = await asyncio.gather(*calls, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return list(results)


def _slot(key: str) -> int:
    return key_slot(key.encode())


class ClusterStore(RedisStore):
    """RedisStore on a Redis Cluster, with its breaker: while a shard fails over
    (its primary gone, a replica not yet promoted) calls fail and limits fail open,
    as with a single Redis that is away; RedisCluster learns the new layout on the
    next calls (a connection error or a MOVED reply makes it read the slots again)."""

    # RedisCluster's own failures (no node reachable to learn the layout from, a slot
    # no live node serves during a failover) are not RedisErrors.
    FAILURES = (*RedisStore.FAILURES, RedisClusterException)

    def __init__(self, url: str, cooldown: float = 2.0, clock: Clock | None = None, *,
                 max_connections: int = MAX_CONNECTIONS) -> None:
        client = RedisCluster.from_url(
            url,
            socket_timeout=REPLY_TIMEOUT_SECONDS,
            socket_connect_timeout=REPLY_TIMEOUT_SECONDS,
            max_connections=max_connections,  # per node
            # A shard whose primary is gone does not stop the other shards' keys.
            require_full_coverage=False,
        )
        self._connections = None
        self._setup(client, lambda name: _ClusterScript(client, name), cooldown, clock)
        self.cluster = client
        self._discovered = False

    async def _call(self, command: Callable[[], Awaitable[T]]) -> T:
        return await super()._call(partial(self._after_discovery, command))

    async def _after_discovery(self, command: Callable[[], Awaitable[T]]) -> T:
        """The first call learns the layout first; later changes (a failover, a
        resharding) are learnt by the client within the calls that meet them."""
        if not self._discovered:
            async with asyncio.timeout(DISCOVERY_TIMEOUT_SECONDS):
                await self.cluster.initialize()
            self._discovered = True
        return await command()

    async def gate(self, gate: Gate) -> GateResult:
        now = now_ms(self._clock.timestamp())
        guard, spend = gate.guard, gate.spend
        slot = _slot(spend.key) if spend is not None else None
        together = tuple(key for key in gate.reads if _slot(key) == slot)
        apart = tuple(key for key in gate.reads if _slot(key) != slot)

        first = await self._call(lambda: _together(
            self._rate_script(keys=[guard.key], args=[now, guard.interval, guard.period_ms, 0]),
            *(self.cluster.get(key) for key in apart)))
        guarded = decision(guard, now, bool(first[0][0]), int(first[0][1]))
        if not guarded.allowed:  # what else was fetched is not told
            return GateResult(guarded, (), None)
        found: dict[str, int | None] = {key: int_or_none(value) for key, value in zip(apart, first[1:],
                                                                               strict=True)}

        head = gate.reads[0] if gate.reads else None
        early = found.get(head) if head is not None else None
        stopped = gate.stop_at is not None and early is not None and early >= gate.stop_at
        spent = None
        if together or (spend is not None and not stopped):
            # The stop applies in the script when its first read is the gate's first.
            stop_at = gate.stop_at if together and together[0] == head else None
            raw = await self._run_gate(now, None, together, stop_at,
                                       None if stopped else spend)
            values, spent = after_guard(raw, len(together), None if stopped else spend, now)
            found.update(zip(together, values, strict=True))
        return GateResult(guarded, tuple(found[key] for key in gate.reads), spent)
