"""Redis stopped, frozen and restarted under a running gateway (contract section 6)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from gateway.models import AuditEvent, PortalRevocation, Subscription
from gateway.store import RedisStore
from tests.factories import create_api_key, create_company, create_customer, create_subscription
from tests.portal.conftest import link_header, make_tenant
from tests.services import PrivateRedis
from tests.support import Gateway, error_codes

pytestmark = pytest.mark.parametrize("backend", [("postgres", "redis")], indirect=True)

CREATE = """mutation($c: ID!) { createPortalLink(customerId: $c) {
  expiresAt customer { urls { customerPortal } } } }"""
REVOKE = "mutation($c: ID!) { revokePortalLinks(customerId: $c) { revokedBefore } }"
SUBSCRIPTIONS = "query { portal { subscriptions { id status } } }"
CANCEL = """mutation($id: ID!, $key: String) {
  cancelSubscription(subscriptionId: $id, idempotencyKey: $key) { id status } }"""


async def eventually(check: Callable[[], Awaitable[bool]], seconds: float = 15.0) -> None:
    """Polls until `check` holds: recovery must happen without a restart."""
    deadline = asyncio.get_running_loop().time() + seconds
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"no recovery within {seconds}s")
        await asyncio.sleep(0.2)


@pytest.fixture
async def setup(start_gateway: Callable[..., Any], private_redis: PrivateRedis
                ) -> tuple[Gateway, dict[str, str], str]:
    gw: Gateway = await start_gateway(redis_url=private_redis.url, rate_limit_links_per_minute=2)
    company = await create_company(gw)
    headers = await create_api_key(gw, company)
    customer = await create_customer(gw, company)
    return gw, headers, customer.uid


async def create_link(gw: Gateway, headers: dict[str, str], customer: str) -> httpx.Response:
    return await gw.gql(CREATE, {"c": customer}, headers=headers)


async def test_link_creation_goes_on_without_redis_with_limits_failing_open(
    setup: tuple[Gateway, dict[str, str], str], private_redis: PrivateRedis,
    caplog: pytest.LogCaptureFixture,
) -> None:
    gw, headers, customer = setup
    # With Redis up the budget of 2 a minute holds.
    statuses = [(await create_link(gw, headers, customer)).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]

    private_redis.stop()
    caplog.set_level(logging.WARNING)
    graphql = [await create_link(gw, headers, customer) for _ in range(4)]
    rest = await gw.client.post(f"/api/partner/v1/makepay/customers/{customer}/portal",
                                headers=headers)

    assert [r.status_code for r in graphql] == [200] * 4
    assert all("errors" not in r.json() for r in graphql)
    assert rest.status_code == 200
    assert rest.json()["customer"]["urls"]["customerPortal"].startswith("https://")
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("fail open" in message for message in warnings)


async def test_limits_come_back_by_themselves_when_redis_returns(
    setup: tuple[Gateway, dict[str, str], str], private_redis: PrivateRedis,
) -> None:
    gw, headers, customer = setup
    private_redis.stop()
    assert (await create_link(gw, headers, customer)).status_code == 200

    private_redis.start()  # an empty Redis, as after a failover: the script is reloaded

    async def limited_again() -> bool:
        return (await create_link(gw, headers, customer)).status_code == 429

    await eventually(limited_again)
    assert error_codes((await create_link(gw, headers, customer)).json()) == ["RATE_LIMITED"]
    assert isinstance(gw.state.store, RedisStore)
    assert not gw.state.store.circuit_open


async def test_a_revocation_without_redis_is_kept_in_the_database(
    setup: tuple[Gateway, dict[str, str], str], private_redis: PrivateRedis,
    caplog: pytest.LogCaptureFixture,
) -> None:
    gw, headers, customer = setup
    private_redis.stop()
    caplog.set_level(logging.WARNING)

    response = await gw.gql(REVOKE, {"c": customer}, headers=headers)

    assert response.status_code == 200, response.json()
    assert response.json()["data"]["revokePortalLinks"]["revokedBefore"]
    async with gw.state.session_factory() as session:
        rows = (await session.execute(select(PortalRevocation).where(
            PortalRevocation.customer_uid == customer))).scalars().all()
    assert len(rows) == 1
    assert any("database only" in r.getMessage() for r in caplog.records)


async def test_readiness_holds_without_redis_and_reports_it(
    setup: tuple[Gateway, dict[str, str], str], private_redis: PrivateRedis,
) -> None:
    gw, _, _ = setup
    up = await gw.client.get("/readyz")
    private_redis.stop()
    down = await gw.client.get("/readyz")

    assert up.json() == {"ok": True, "checks": {"database": True, "redis": True}}
    assert down.status_code == 200
    assert down.json() == {"ok": True, "checks": {"database": True, "redis": False}}


async def test_a_frozen_redis_is_skipped_after_the_first_timeout(
    setup: tuple[Gateway, dict[str, str], str], private_redis: PrivateRedis,
) -> None:
    gw, headers, customer = setup
    store = gw.state.store
    assert isinstance(store, RedisStore)
    tenant = await make_tenant(gw, "Portal")
    private_redis.freeze()  # accepts connections, answers nothing: every call would time out
    try:
        statuses = [(await create_link(gw, headers, customer)).status_code for _ in range(5)]
        assert statuses == [200] * 5
        assert store.circuit_open
        # After the first timeout the rest were refused without waiting on Redis.
        assert store.short_circuited >= 4
        refused = store.short_circuited
        read = await tenant.portal(SUBSCRIPTIONS)
        assert read["_status"] == 200, read  # the portal's reads skip Redis too
        assert "errors" not in read
        assert store.short_circuited > refused
    finally:
        private_redis.thaw()

    async def closed() -> bool:
        await create_link(gw, headers, customer)
        return not store.circuit_open

    await eventually(closed)
    assert (await gw.client.get("/readyz")).json()["checks"]["redis"] is True


async def test_the_portal_without_redis_and_after_it_returns(
    start_gateway: Callable[..., Any], private_redis: PrivateRedis,
    caplog: pytest.LogCaptureFixture,
) -> None:
    gw: Gateway = await start_gateway(redis_url=private_redis.url)
    tenant = await make_tenant(gw)
    subscription = await create_subscription(gw, tenant.company)
    old_link = tenant.link
    assert (await tenant.portal(SUBSCRIPTIONS))["data"]["portal"]["subscriptions"] == [
        {"id": str(subscription.id), "status": "active"}]  # verified and cached in Redis

    private_redis.stop()
    caplog.set_level(logging.WARNING)
    # The merchant revokes while Redis is down: the database alone has the record.
    await gw.gql_data(REVOKE, {"c": tenant.customer.uid}, tenant.api_key)
    revoked = await tenant.portal(SUBSCRIPTIONS)
    gw.clock.advance(1)  # a link issued in a later second is not covered
    fresh = link_header(gw, tenant.company.id, tenant.customer.uid)
    read = await tenant.portal(SUBSCRIPTIONS, link=fresh)
    cancel = await tenant.portal(CANCEL, {"id": str(subscription.id), "key": "k-1"}, link=fresh)

    assert error_codes(revoked) == ["PORTAL_LINK_INVALID"]
    assert read["data"]["portal"]["subscriptions"][0]["status"] == "active"
    assert cancel["_status"] == 503
    assert error_codes(cancel) == ["UNAVAILABLE"]
    assert any(r.levelno == logging.WARNING for r in caplog.records)
    async with gw.state.session_factory() as session:
        assert (await session.get(Subscription, subscription.id)).status == "active"  # type: ignore[union-attr]
        assert (await session.execute(select(AuditEvent))).scalars().all() == []

    private_redis.start()  # empty: the revocation made meanwhile is not in it

    async def cancelled() -> bool:
        body = await tenant.portal(CANCEL, {"id": str(subscription.id), "key": "k-2"}, link=fresh)
        return body.get("data") is not None

    await eventually(cancelled)
    assert error_codes(await tenant.portal(SUBSCRIPTIONS, link=old_link)) == ["PORTAL_LINK_INVALID"]
    # The same key again: the first outcome, from Redis, without acting again.
    again = await tenant.portal(CANCEL, {"id": str(subscription.id), "key": "k-2"}, link=fresh)
    assert again["data"]["cancelSubscription"]["status"] == "cancelled"
    async with gw.state.session_factory() as session:
        events = (await session.execute(select(AuditEvent))).scalars().all()
    assert [e.action for e in events] == ["subscription.cancel"]
