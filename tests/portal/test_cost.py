"""What one portal request costs: Redis round trips and SQL statements (issue: efficient
at scale). Counted on the real servers, never timed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from redis.asyncio import Redis

from tests.factories import create_company, create_payment, create_payment_link, create_subscription
from tests.portal.conftest import PORTAL_QUERY, Tenant, make_tenant
from tests.services import PrivateRedis
from tests.support import Gateway, error_codes, sql_statements

PAUSE = "mutation($id: ID!) { pauseSubscription(subscriptionId: $id) { status } }"
# The portal query's statements, whatever the customer's number of records: the
# customer with its company; then one for payments, payment links and subscriptions
# together (portal/repository.py). A link not verified in the last minute adds the
# revocation lookup.
PORTAL_STATEMENTS = 2
PORTAL_STATEMENTS_UNCACHED = PORTAL_STATEMENTS + 1


async def plant(tenant: Tenant, count: int) -> None:
    """`count` payments, open payment links and subscriptions, half matched by email and
    half by client id, plus look-alikes in another company."""
    gw, company = tenant.gw, tenant.company
    other = await create_company(gw, "Other")
    for n in range(count):
        by = {"email": None, "client_id": "client_1042"} if n % 2 else {}
        await create_payment(gw, company, description=f"p{n}", **by)
        await create_payment_link(gw, company, description=f"l{n}",
                                  expires_at=gw.clock.now() + timedelta(days=1), **by)
        await create_subscription(
            gw, company, plan_name=f"s{n}",
            **({"email": None, "metadata": {"clientId": "client_1042"}} if n % 2 else {}))
        await create_payment(gw, other, description=f"other {n}")


async def portal_statements(tenant: Tenant) -> list[str]:
    with sql_statements(tenant.gw.state.engine) as statements:
        body = await tenant.portal(PORTAL_QUERY, {"first": 100})
    assert error_codes(body) == []
    return statements


class TestSqlStatements:
    @pytest.mark.parametrize("records", [1, 40])
    async def test_the_portal_query_costs_the_same_few_statements_at_any_size(
        self, gw: Gateway, records: int
    ) -> None:
        tenant = await make_tenant(gw)
        await plant(tenant, records)

        uncached = await portal_statements(tenant)
        cached = await portal_statements(tenant)

        body = await tenant.portal(PORTAL_QUERY, {"first": 100})
        portal = body["data"]["portal"]
        assert len(portal["payments"]["edges"]) == records
        assert len(portal["paymentLinks"]) == len(portal["subscriptions"]) == records
        assert len(uncached) == PORTAL_STATEMENTS_UNCACHED, uncached
        assert len(cached) == PORTAL_STATEMENTS, cached

    async def test_a_flood_of_bad_links_never_reaches_the_database(self, tenant: Tenant) -> None:
        query = tenant.link["x-makepay-portal"]
        forged = {"x-makepay-portal": query[:-4] + ("0000" if not query.endswith("0000") else "1111")}
        tenant.gw.clock.advance(24 * 3600 + 1)  # the genuine link is now expired
        with sql_statements(tenant.gw.state.engine) as statements:
            for link in [forged, {"x-makepay-portal": "company=acct_x"}] * 5:
                body = await tenant.portal(PORTAL_QUERY, link=link)
                assert error_codes(body)[0] in {"PORTAL_LINK_INVALID", "RATE_LIMITED"}
        assert statements == []

        # A genuine expired link (which only its customer holds) reads its company's
        # ways on (contract section 11): one primary-key lookup, nothing else.
        with sql_statements(tenant.gw.state.engine) as statements:
            body = await tenant.portal(PORTAL_QUERY, link=tenant.link)
        assert error_codes(body) == ["PORTAL_LINK_EXPIRED"]
        assert len(statements) == 1, statements
        assert "companies" in statements[0]


class TestRedisRoundTrips:
    """Redis' slow log, set to log every command, names the client of each: commands a
    script runs come from its own pseudo-client, so what is left is what the gateway
    sent over the network, one entry per round trip (the gateway does not pipeline)."""

    pytestmark = pytest.mark.parametrize("backend", [("postgres", "redis")], indirect=True)

    @pytest.fixture
    async def setup(self, start_gateway: Callable[..., Any], private_redis: PrivateRedis
                    ) -> tuple[Tenant, Redis]:
        gw: Gateway = await start_gateway(redis_url=private_redis.url)
        probe = Redis.from_url(private_redis.url)
        await probe.client_setname("probe")
        await probe.config_set("slowlog-log-slower-than", 0)
        await probe.config_set("slowlog-max-len", 10_000)
        return await make_tenant(gw), probe

    @staticmethod
    async def commands_of(probe: Redis, request: Any) -> list[str]:
        await probe.slowlog_reset()
        await request()
        entries = await probe.slowlog_get(10_000)
        await probe.aclose()
        sent = [e for e in reversed(entries)
                if e["client_name"] != b"probe" and not e["client_address"].startswith(b"?")]
        return [e["command"].split()[0].decode().upper() for e in sent]

    async def test_a_portal_read_with_a_cached_verification_is_one_round_trip(
        self, setup: tuple[Tenant, Redis]
    ) -> None:
        tenant, probe = setup
        assert error_codes(await tenant.portal()) == []  # verified, cached, scripts loaded

        async def read() -> None:
            assert error_codes(await tenant.portal()) == []

        assert await self.commands_of(probe, read) == ["EVALSHA"]

    async def test_a_first_visit_adds_only_the_cache_write(self, setup: tuple[Tenant, Redis]) -> None:
        tenant, probe = setup
        await tenant.portal("query { portal { expiresAt } }")  # loads the script
        tenant.gw.clock.advance(61)  # the cached verification is due for a recheck

        async def read() -> None:
            assert error_codes(await tenant.portal()) == []

        assert await self.commands_of(probe, read) == ["EVALSHA", "SET"]

    @pytest.mark.parametrize("case", ["forged", "expired"])
    async def test_a_bad_link_is_one_round_trip(self, setup: tuple[Tenant, Redis], case: str) -> None:
        tenant, probe = setup
        query = tenant.link["x-makepay-portal"]
        link = tenant.link
        if case == "forged":
            link = {"x-makepay-portal": query.replace("signature=", "signature=0")[:len(query)]}
        else:
            tenant.gw.clock.advance(24 * 3600 + 1)
        await tenant.portal(link=link)  # loads the script

        async def read() -> None:
            assert error_codes(await tenant.portal(link=link)) == [
                "PORTAL_LINK_INVALID" if case == "forged" else "PORTAL_LINK_EXPIRED"]

        assert await self.commands_of(probe, read) == ["EVALSHA"]

    async def test_a_mutation_checks_its_link_in_one_round_trip(
        self, setup: tuple[Tenant, Redis]
    ) -> None:
        tenant, probe = setup
        row = await create_subscription(tenant.gw, tenant.company)
        assert error_codes(await tenant.portal()) == []

        async def pause() -> None:
            body = await tenant.portal(PAUSE, {"id": str(row.id)})
            assert body["data"]["pauseSubscription"]["status"] == "paused"

        assert await self.commands_of(probe, pause) == ["EVALSHA"]
