"""A revocation made while Redis could not be written, once Redis is back with its old
data (frozen and thawed, as after a network cut): the cached verifications it still
holds must not outlive the revocation by the usual minute."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest

from gateway.models import PortalRevocation
from gateway.portal_link.repository import PortalRevocationRepository
from tests.failure.test_redis_down import eventually
from tests.portal.conftest import Tenant, make_tenant
from tests.services import PrivateRedis
from tests.support import Gateway, TestClock, error_codes

pytestmark = pytest.mark.parametrize("backend", [("postgres", "redis")], indirect=True)

WHO = "query { portal { customer { uid } } }"
REVOKE = "mutation($c: ID!) { revokePortalLinks(customerId: $c) { revokedBefore } }"


async def codes(tenant: Tenant) -> list[str]:
    return error_codes(await tenant.portal(WHO))


async def redis_answers(gw: Gateway) -> None:
    async def up() -> bool:
        body = (await gw.client.get("/readyz")).json()
        return bool(body["checks"]["redis"])

    await eventually(up)


async def test_the_revoking_process_writes_the_revocation_when_redis_returns(
    start_gateway: Callable[..., Any], private_redis: PrivateRedis
) -> None:
    clock = TestClock()
    one: Gateway = await start_gateway(clock, redis_url=private_redis.url)
    two: Gateway = await start_gateway(clock, redis_url=private_redis.url)
    tenant = await make_tenant(one)
    on_two = Tenant(two, tenant.company, tenant.customer, tenant.api_key, tenant.link)
    assert await codes(on_two) == []  # verified; the verification is cached in Redis
    private_redis.freeze()
    try:
        revoked = await one.gql(REVOKE, {"c": tenant.customer.uid}, tenant.api_key)
        assert "errors" not in revoked.json()  # kept in the database only
    finally:
        private_redis.thaw()

    await redis_answers(one)  # its first call that succeeds writes what it kept

    # Process two saw no outage and holds a fresh cached verification, yet:
    assert await codes(on_two) == ["PORTAL_LINK_INVALID"]
    key = one.state.keys.revocation(tenant.company.id, tenant.customer.uid)
    assert await two.state.store.get(key) is not None


async def test_a_process_that_saw_the_outage_distrusts_older_verifications(
    start_gateway: Callable[..., Any], private_redis: PrivateRedis
) -> None:
    gw: Gateway = await start_gateway(redis_url=private_redis.url)
    tenant = await make_tenant(gw)
    assert await codes(tenant) == []  # verified and cached
    private_redis.freeze()
    try:
        assert await codes(tenant) == []  # read from the database, limits failing open
        # Revoked by a process whose write to Redis failed and which then went away:
        # the database row is all that is left of it.
        async with gw.state.session_factory() as session:
            await PortalRevocationRepository(session).add(PortalRevocation(
                id=uuid.uuid4(), company_id=tenant.company.id, customer_uid=tenant.customer.uid,
                issued_before=int(gw.clock.timestamp()), created_at=gw.clock.now()))
            await session.commit()
    finally:
        private_redis.thaw()

    await redis_answers(gw)

    assert await codes(tenant) == ["PORTAL_LINK_INVALID"]
