"""DATABASE_READ_URL: a real streaming replica (pg_basebackup -R from a primary of
the test's own). Reads that may lag go to it; writes and the reads that must see
them go to the primary; a dead replica's reads go to the primary."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import asyncpg
import pytest

from gateway import migrate
from gateway.config import Settings
from tests.portal.conftest import Tenant, make_tenant
from tests.services import PrivatePostgres
from tests.support import Gateway

pytestmark = pytest.mark.parametrize("backend", [("postgres", "redis")], indirect=True)

CREATE = "mutation($e: String!) { createCustomer(input: {email: $e}) { id } }"
CUSTOMERS = "query { customers(first: 10) { edges { node { email } } } }"
ONE = "query($id: ID!) { customer(customerId: $id) { email } }"
RENAME = "mutation($name: String!) { updatePortalDisplayName(name: $name) { name } }"
NAME = "query { portal { customer { name } } }"


class Servers:
    def __init__(self) -> None:
        self.primary = PrivatePostgres()
        self.primary.start()
        migrate.upgrade(Settings(database_url=self.primary.url, environment="test"))
        self.replica = PrivatePostgres(primary=self.primary)
        self.replica.start()

    def cleanup(self) -> None:
        self.replica.cleanup()
        self.primary.cleanup()


@pytest.fixture
def servers() -> Iterator[Servers]:
    made = Servers()
    try:
        yield made
    finally:
        made.cleanup()


async def sql(url: str, statement: str) -> Any:
    conn = await asyncpg.connect(url)
    try:
        return await conn.fetchval(statement)
    finally:
        await conn.close()


async def caught_up(servers: Servers) -> None:
    """The replica has replayed everything the primary has written so far."""
    target = await sql(servers.primary.url, "SELECT pg_current_wal_lsn()::text")
    query = f"SELECT pg_last_wal_replay_lsn() >= '{target}'::pg_lsn"
    for _ in range(200):
        if await sql(servers.replica.url, query):
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the replica did not catch up")


@pytest.fixture
async def gw(servers: Servers, start_gateway: Callable[..., Any]) -> Gateway:
    # `servers` first: they stop after the gateway does.
    gateway: Gateway = await start_gateway(database_url=servers.primary.url,
                                           database_read_url=servers.replica.url,
                                           session_cookie_secure=False)
    return gateway


@pytest.fixture
async def tenant(gw: Gateway, servers: Servers) -> AsyncIterator[Tenant]:
    made = await make_tenant(gw)
    await caught_up(servers)
    await sql(servers.replica.url, "SELECT pg_wal_replay_pause()")  # the replica lags from here
    yield made
    if servers.replica.running:
        await sql(servers.replica.url, "SELECT pg_wal_replay_resume()")


async def emails(gw: Gateway, tenant: Tenant) -> list[str]:
    data = await gw.gql_data(CUSTOMERS, headers=tenant.api_key)
    return [edge["node"]["email"] for edge in data["customers"]["edges"]]


async def test_merchant_lists_read_the_replica_and_see_its_lag(
    gw: Gateway, tenant: Tenant, servers: Servers
) -> None:
    created = await gw.gql_data(CREATE, {"e": "new@example.com"}, headers=tenant.api_key)

    # Not yet replayed: the list, from the replica, does not have it; the customer's
    # own read, from the primary, does.
    assert "new@example.com" not in await emails(gw, tenant)
    one = await gw.gql_data(ONE, {"id": created["createCustomer"]["id"]}, headers=tenant.api_key)
    assert one["customer"]["email"] == "new@example.com"

    await sql(servers.replica.url, "SELECT pg_wal_replay_resume()")
    await caught_up(servers)
    assert "new@example.com" in await emails(gw, tenant)


async def test_the_portal_reads_the_replica_but_rereads_its_own_write_from_the_primary(
    gw: Gateway, tenant: Tenant
) -> None:
    before = await tenant.portal(NAME)
    renamed = await gw.gql(RENAME, {"name": "Renamed"}, tenant.link)
    assert renamed.json()["data"]["updatePortalDisplayName"]["name"] == "Renamed"
    assert "makepay_portal_fresh=1" in renamed.headers["set-cookie"]

    # The page's re-read after its action (the client holds the cookie): the primary.
    reread = await tenant.portal(NAME)
    gw.client.cookies.clear()
    elsewhere = await tenant.portal(NAME)  # any other reader: the lagging replica

    assert reread["data"]["portal"]["customer"]["name"] == "Renamed"
    assert elsewhere["data"]["portal"]["customer"]["name"] == before["data"]["portal"]["customer"]["name"]


async def test_a_dead_replica_leaves_reads_to_the_primary(
    gw: Gateway, tenant: Tenant, servers: Servers
) -> None:
    assert await emails(gw, tenant) == [tenant.customer.email]  # pooled replica connections
    servers.replica.stop()

    # Every read answers, from the primary, with no error; the first one included.
    for _ in range(3):
        assert await emails(gw, tenant) == [tenant.customer.email]
        assert (await tenant.portal(NAME))["data"]["portal"]["customer"]["name"] is not None
