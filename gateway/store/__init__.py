"""The shared store: Redis in production, an in-memory store of the same behaviour
for a single process. Everything Redis holds for the gateway goes through here.

    base.py         the Store protocol, its types, the GCRA arithmetic both stores run
    redis_store.py  RedisStore: scripts, plain commands, the circuit breaker
    connections.py  the connections the scripts run on
    scripts.py      lua/*.lua, the scripts
    memory.py       MemoryStore"""

from __future__ import annotations

from gateway.kit.time import Clock
from gateway.store.base import (
    Budget,
    Gate,
    GateResult,
    RateDecision,
    Store,
    StoreUnavailable,
)
from gateway.store.memory import MemoryStore
from gateway.store.redis_store import RedisStore

__all__ = [
    "Budget",
    "Gate",
    "GateResult",
    "MemoryStore",
    "RateDecision",
    "RedisStore",
    "Store",
    "StoreUnavailable",
    "create_store",
]


def create_store(url: str | None, clock: Clock | None = None) -> Store:
    return RedisStore(url, clock=clock) if url else MemoryStore(clock)
