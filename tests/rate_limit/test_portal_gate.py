"""The portal's one store call (redis.PortalGate), with the same answers from Redis'
script and from the in-memory store: each test runs on both."""

from __future__ import annotations

import pytest
from redis.asyncio import Redis

from gateway.redis import PortalGate, RedisStore, Store
from tests.support import Gateway


def gate(gw: Gateway, issued_at: int = 1_000, ip_limit: int = 3, rate_limit: int = 2) -> PortalGate:
    keys = gw.state.keys
    return PortalGate(
        ip_key=keys.auth_failures("198.51.100.9"), ip_limit=ip_limit,
        revocation_key=keys.revocation("acct_gate", "cus_gate"),
        verified_key=keys.verified_link("acct_gate", "cus_gate", "sig"),
        rate_key=keys.portal_rate("acct_gate", "cus_gate", "sig", "r"), rate_limit=rate_limit,
        issued_at=issued_at,
    )


@pytest.fixture
def store(gw: Gateway) -> Store:
    return gw.state.store


async def test_a_clean_request_reads_nothing_and_spends_one(gw: Gateway, store: Store) -> None:
    result = await store.portal_gate(gate(gw))

    assert result.ip.allowed
    assert (result.revoked, result.verified) == (None, None)
    assert result.rate is not None
    assert (result.rate.allowed, result.rate.limit, result.rate.remaining) == (True, 2, 1)


async def test_it_returns_the_revocation_and_the_cached_verification(gw: Gateway, store: Store) -> None:
    g = gate(gw, issued_at=1_000)
    await store.set(g.revocation_key, "999", 60)  # revoked before this link was issued
    await store.set(g.verified_key, "1234", 60)

    result = await store.portal_gate(g)

    assert (result.revoked, result.verified) == (999, 1234)
    assert result.rate is not None
    assert result.rate.allowed


@pytest.mark.parametrize("cutoff", [1_000, 1_001])
async def test_a_revoked_link_spends_nothing(gw: Gateway, store: Store, cutoff: int) -> None:
    g = gate(gw, issued_at=1_000)
    await store.set(g.revocation_key, str(cutoff), 60)

    result = await store.portal_gate(g)

    assert result.revoked == cutoff
    assert result.rate is None
    untouched = await store.rate_peek(g.rate_key, g.rate_limit)
    assert untouched.remaining == g.rate_limit


async def test_an_ip_past_its_failure_budget_is_refused_before_anything_else(
    gw: Gateway, store: Store
) -> None:
    g = gate(gw, ip_limit=3)
    await store.set(g.revocation_key, "2000", 60)
    for _ in range(3):
        assert (await store.rate_hit(g.ip_key, g.ip_limit)).allowed

    result = await store.portal_gate(g)

    assert not result.ip.allowed
    assert result.ip.retry_after >= 1
    assert (result.revoked, result.verified, result.rate) == (None, None, None)
    assert (await store.rate_peek(g.rate_key, g.rate_limit)).remaining == g.rate_limit


async def test_the_gate_only_peeks_at_the_ips_budget(gw: Gateway, store: Store) -> None:
    g = gate(gw, ip_limit=3, rate_limit=10)
    for _ in range(5):
        assert (await store.portal_gate(g)).ip.allowed

    assert (await store.rate_peek(g.ip_key, g.ip_limit)).remaining == g.ip_limit


async def test_the_links_budget_runs_out(gw: Gateway, store: Store) -> None:
    g = gate(gw, rate_limit=2)
    decisions = [(await store.portal_gate(g)).rate for _ in range(3)]

    assert [d.allowed if d else None for d in decisions] == [True, True, False]
    last = decisions[-1]
    assert last is not None
    assert (last.retry_after >= 1, last.remaining) == (True, 0)


async def test_a_revocation_cutoff_is_raised_never_lowered(gw: Gateway, store: Store) -> None:
    key = gw.state.keys.revocation("acct_gate", "cus_gate")
    await store.raise_to(key, 2_000, 60)
    await store.raise_to(key, 1_000, 60)  # an older cutoff written late: a put-back, a replay
    assert await store.get(key) == b"2000"

    await store.raise_to(key, 3_000, 60)
    assert await store.get(key) == b"3000"


async def test_scripts_are_loaded_again_after_redis_forgets_them(
        gw: Gateway, store: Store, redis_url: str) -> None:
    """A restarted or flushed Redis knows no script: the next call loads it and answers."""
    if not isinstance(store, RedisStore):
        pytest.skip("only Redis keeps scripts")
    await store.portal_gate(gate(gw))  # loaded once
    client = Redis.from_url(redis_url)
    try:
        await client.script_flush()
    finally:
        await client.aclose()

    result = await store.portal_gate(gate(gw))
    decision = await store.rate_hit(gw.state.keys.auth_failures("198.51.100.7"), 5)

    assert result.rate is not None
    assert (result.rate.allowed, result.rate.remaining) == (True, 0)
    assert (decision.allowed, decision.remaining) == (True, 4)


async def test_connections_redis_closed_are_replaced_without_an_error(
        gw: Gateway, store: Store, redis_url: str) -> None:
    """Redis (or a proxy before it) closing idle connections costs no request."""
    if not isinstance(store, RedisStore):
        pytest.skip("only Redis has connections to lose")
    await store.portal_gate(gate(gw))  # a connection open and idle
    client = Redis.from_url(redis_url)
    try:
        killed = await client.client_kill_filter(_type="normal", skipme=True)
    finally:
        await client.aclose()
    assert killed >= 1

    result = await store.portal_gate(gate(gw))

    assert result.rate is not None
    assert (result.rate.allowed, result.rate.remaining) == (True, 0)  # the second of two
    assert not store.circuit_open
