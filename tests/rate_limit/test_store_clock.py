"""Both stores take a rate-limit decision on the caller's clock, with the same
arithmetic: the same sequence of requests and clock moves gets the same answers
from Redis' script and from the in-memory store."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest

from gateway.kit.time import FrozenClock
from gateway.store import Budget, Gate, MemoryStore, RedisStore, Store

START = 1_764_500_000.0
# (seconds to move the clock, spend or peek) -> (allowed, remaining, retry_after, reset)
STEPS: list[tuple[float, str, tuple[bool, int, int, int]]] = [
    (0, "hit", (True, 2, 0, 20)),
    (0, "hit", (True, 1, 0, 40)),
    (0, "hit", (True, 0, 0, 60)),
    (0, "hit", (False, 0, 20, 60)),  # the burst of 3 is spent: one more every 20 s
    (19.9, "peek", (False, 0, 1, 41)),
    (0.1, "peek", (True, 1, 0, 40)),  # 20 s on: one more
    (0, "hit", (True, 0, 0, 60)),
    (0, "hit", (False, 0, 20, 60)),
    (120, "peek", (True, 3, 0, 0)),  # idle: the whole budget is back
]


@pytest.fixture(params=["memory", "redis"])
async def clocked(request: pytest.FixtureRequest, redis_url: str,
                  redis_cleanup: None) -> AsyncIterator[tuple[Store, FrozenClock]]:
    clock = FrozenClock(START)
    store: Store = MemoryStore(clock) if request.param == "memory" else RedisStore(redis_url, clock=clock)
    yield store, clock
    await store.close()


def key() -> str:
    from tests.conftest import RUN_ID

    return f"t{RUN_ID}:clock:{uuid.uuid4().hex}"


async def test_decisions_follow_the_callers_clock(clocked: tuple[Store, FrozenClock]) -> None:
    store, clock = clocked
    budget = key()
    seen = []
    for move, action, _ in STEPS:
        clock.advance(move)
        d = await (store.rate_hit(budget, 3) if action == "hit" else store.rate_peek(budget, 3))
        seen.append((d.allowed, d.remaining, d.retry_after, d.reset))

    assert seen == [expected for _, _, expected in STEPS]


async def test_a_gate_spends_on_the_callers_clock(clocked: tuple[Store, FrozenClock]) -> None:
    store, clock = clocked
    gate = Gate(guard=Budget(key(), 5), spend=Budget(key(), 2, period=10))
    answers = []
    for move in (0, 0, 0, 4.9, 0.1):  # a burst of 2, then one more every 5 s
        clock.advance(move)
        spent = (await store.gate(gate)).spent
        assert spent is not None
        answers.append((spent.allowed, spent.retry_after))

    assert answers == [(True, 0), (True, 0), (False, 5), (False, 1), (True, 0)]
