"""The store's one-round-trip checks (store.Gate), with the same answers from Redis'
script and from the in-memory store: each test runs on both."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from redis.asyncio import Redis

from gateway.portal.gate import PortalGateResult, check_portal_gate
from gateway.store import Budget, Gate, RedisStore, Store
from tests.services import PrivateRedis
from tests.support import Gateway


def gate(gw: Gateway, issued_at: int = 1_000, ip_limit: int = 3, rate_limit: int = 2) -> Gate:
    """A portal request's checks (portal/gate.py), with the limits given here."""
    keys = gw.state.keys
    return Gate(
        guard=Budget(keys.auth_failures("198.51.100.9"), ip_limit),
        reads=(keys.revocation("acct_gate", "cus_gate"),
               keys.verified_link("acct_gate", "cus_gate", "sig")),
        stop_at=issued_at,
        spend=Budget(keys.portal_rate("acct_gate", "cus_gate", "sig", "r"), rate_limit),
    )


async def check(store: Store, g: Gate) -> PortalGateResult:
    return await check_portal_gate(store, g)


@pytest.fixture
def store(gw: Gateway) -> Store:
    return gw.state.store


async def test_a_clean_request_reads_nothing_and_spends_one(gw: Gateway, store: Store) -> None:
    result = await check(store, gate(gw))

    assert result.ip.allowed
    assert (result.revoked, result.verified) == (None, None)
    assert result.rate is not None
    assert (result.rate.allowed, result.rate.limit, result.rate.remaining) == (True, 2, 1)


async def test_it_returns_the_revocation_and_the_cached_verification(gw: Gateway, store: Store) -> None:
    g = gate(gw, issued_at=1_000)
    await store.set(g.reads[0], "999", 60)  # revoked before this link was issued
    await store.set(g.reads[1], "1234", 60)

    result = await check(store, g)

    assert (result.revoked, result.verified) == (999, 1234)
    assert result.rate is not None
    assert result.rate.allowed


@pytest.mark.parametrize("cutoff", [1_000, 1_001])
async def test_a_revoked_link_spends_nothing(gw: Gateway, store: Store, cutoff: int) -> None:
    g = gate(gw, issued_at=1_000)
    assert g.spend is not None
    await store.set(g.reads[0], str(cutoff), 60)

    result = await check(store, g)

    assert result.revoked == cutoff
    assert result.rate is None
    untouched = await store.rate_peek(g.spend.key, g.spend.limit)
    assert untouched.remaining == g.spend.limit


async def test_an_ip_past_its_failure_budget_is_refused_before_anything_else(
    gw: Gateway, store: Store
) -> None:
    g = gate(gw, ip_limit=3)
    assert g.spend is not None
    await store.set(g.reads[0], "2000", 60)
    for _ in range(3):
        assert (await store.rate_hit(g.guard.key, g.guard.limit)).allowed

    result = await check(store, g)

    assert not result.ip.allowed
    assert result.ip.retry_after >= 1
    assert (result.revoked, result.verified, result.rate) == (None, None, None)
    assert (await store.rate_peek(g.spend.key, g.spend.limit)).remaining == g.spend.limit


async def test_the_gate_only_peeks_at_the_ips_budget(gw: Gateway, store: Store) -> None:
    g = gate(gw, ip_limit=3, rate_limit=10)
    for _ in range(5):
        assert (await check(store, g)).ip.allowed

    assert (await store.rate_peek(g.guard.key, g.guard.limit)).remaining == g.guard.limit


async def test_the_links_budget_runs_out(gw: Gateway, store: Store) -> None:
    g = gate(gw, rate_limit=2)
    decisions = [(await check(store, g)).rate for _ in range(3)]

    assert [d.allowed if d else None for d in decisions] == [True, True, False]
    last = decisions[-1]
    assert last is not None
    assert (last.retry_after >= 1, last.remaining) == (True, 0)


async def test_a_gate_without_reads_peeks_then_spends(gw: Gateway, store: Store) -> None:
    prefix = gw.settings.redis_key_prefix
    peek, hit = Budget(f"{prefix}:test:peek", 3), Budget(f"{prefix}:test:hit", 2)
    await store.rate_hit(peek.key, peek.limit)

    result = await store.gate(Gate(guard=peek, spend=hit))
    assert result.guard.allowed
    assert result.spent is not None
    assert (result.spent.allowed, result.spent.remaining) == (True, 1)
    before = (await store.rate_peek(hit.key, hit.limit)).remaining
    for _ in range(3):  # past the first budget (the last of these is refused)
        await store.rate_hit(peek.key, peek.limit)
    result = await store.gate(Gate(guard=peek, spend=hit))
    assert not result.guard.allowed
    assert result.guard.retry_after >= 1
    assert result.spent is None
    # The refused call spent nothing from the second budget (time only refills it).
    assert (await store.rate_peek(hit.key, hit.limit)).remaining >= before


async def test_a_mark_stops_the_spending_whatever_its_value(gw: Gateway, store: Store) -> None:
    """An API key's checks: a revocation mark (any time at or after 0) spends nothing."""
    prefix = gw.settings.redis_key_prefix
    mark, links = f"{prefix}:test:mark", Budget(f"{prefix}:test:links", 5)
    g = Gate(guard=Budget(f"{prefix}:test:ip", 3), reads=(mark,), stop_at=0, spend=links)
    first = await store.gate(g)
    await store.set(mark, "1764500000", 60)

    second = await store.gate(g)

    assert (first.values, first.spent is not None) == ((None,), True)
    assert (second.values, second.spent) == ((1764500000,), None)
    assert (await store.rate_peek(links.key, links.limit)).remaining == 4


async def test_a_revocation_cutoff_is_raised_never_lowered(gw: Gateway, store: Store) -> None:
    key = gw.state.keys.revocation("acct_gate", "cus_gate")
    await store.raise_to(key, 2_000, 60)
    await store.raise_to(key, 1_000, 60)  # an older cutoff written late: a put-back, a replay
    assert await store.get(key) == b"2000"

    await store.raise_to(key, 3_000, 60)
    assert await store.get(key) == b"3000"


async def test_scripts_are_loaded_again_after_redis_forgets_them(
        start_gateway: Callable[..., Any], private_redis: PrivateRedis) -> None:
    """A restarted or flushed Redis knows no script: the next call loads it and answers."""
    gw: Gateway = await start_gateway(redis_url=private_redis.url)
    store = gw.state.store
    if not isinstance(store, RedisStore):
        pytest.skip("only Redis keeps scripts")
    await check(store, gate(gw))  # loaded once
    client = Redis.from_url(private_redis.url)
    try:
        await client.script_flush()
    finally:
        await client.aclose()

    result = await check(store, gate(gw))
    decision = await store.rate_hit(gw.state.keys.auth_failures("198.51.100.7"), 5)

    assert result.rate is not None
    assert (result.rate.allowed, result.rate.remaining) == (True, 0)
    assert (decision.allowed, decision.remaining) == (True, 4)


async def test_connections_redis_closed_are_replaced_without_an_error(
        start_gateway: Callable[..., Any], private_redis: PrivateRedis) -> None:
    """Redis (or a proxy before it) closing idle connections costs no request."""
    gw: Gateway = await start_gateway(redis_url=private_redis.url)
    store = gw.state.store
    if not isinstance(store, RedisStore):
        pytest.skip("only Redis has connections to lose")
    await check(store, gate(gw))  # a connection open and idle
    await store.get("anything")  # and one of the plain commands'
    client = Redis.from_url(private_redis.url)
    try:
        killed = await client.client_kill_filter(_type="normal", skipme=True)
    finally:
        await client.aclose()
    assert killed >= 1

    result = await check(store, gate(gw))

    assert result.rate is not None
    assert (result.rate.allowed, result.rate.remaining) == (True, 0)  # the second of two
    assert await store.get("anything") is None  # retried on a new connection
    assert not store.circuit_open


async def test_scripts_and_commands_share_one_connection_limit(private_redis: PrivateRedis) -> None:
    """The connections kept for scripts come out of the client's pool: together with
    the plain commands' they never exceed its limit."""
    store = RedisStore(private_redis.url, max_connections=4, keep_script_connections=2)
    watcher = Redis.from_url(private_redis.url)
    try:
        await asyncio.gather(
            *(store.rate_hit(f"limit:{i}", 5) for i in range(8)),
            *(store.get(f"limit:{i}") for i in range(8)),
            return_exceptions=True)  # past the limit a call fails: the limit holds
        clients = await watcher.client_list(_type="normal")
        assert len(clients) - 1 <= 4, clients  # the watcher's own is the 1
        # Kept or returned to the pool, the connections still serve calls afterwards.
        await asyncio.sleep(store.cooldown)
        assert (await store.rate_hit("limit:after", 5)).allowed
        assert await store.get("limit:after") is not None
    finally:
        await watcher.aclose()
        await store.close()
