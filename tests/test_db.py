"""Pooled connections: one the server closed is replaced before use (the checkout
check that stands in for pool_pre_ping), and read-only work runs in autocommit."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from gateway.db import autocommit, driver_fetch, driver_pool, one_connection
from tests.factories import create_api_key, create_company, create_customer
from tests.support import Gateway


async def test_connections_the_server_closed_are_replaced(gw: Gateway, database_url: str) -> None:
    if gw.backend != "postgres":
        pytest.skip("only a server can close the gateway's connections")
    company = await create_company(gw)
    headers = await create_api_key(gw, company)
    customer = await create_customer(gw, company)
    route = f"/api/partner/v1/makepay/customers/{customer.uid}/portal"
    assert (await gw.client.post(route, headers=headers)).status_code == 200

    admin = await asyncpg.connect(database_url)
    try:
        await admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()")
        # One link after another, and links at once: each with its event written.
        for _ in range(3):
            response = await gw.client.post(route, headers=headers)
            assert response.status_code == 200, response.text
        await admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()")
        burst = await asyncio.gather(*(gw.client.post(route, headers=headers) for _ in range(6)))
        assert [r.status_code for r in burst] == [200] * 6
        events = await admin.fetchval(
            "SELECT count(*) FROM events WHERE company_id = $1 AND type = 'portal_link.created'",
            company.id)
    finally:
        await admin.close()
    assert events == 1 + 3 + 6


async def test_autocommit_connections_read_committed_rows(gw: Gateway) -> None:
    company = await create_company(gw)
    async with autocommit(gw.state.engine) as conn:
        found = (await conn.exec_driver_sql(
            "SELECT name FROM companies WHERE id = :id" if gw.backend == "sqlite"
            else "SELECT name FROM companies WHERE id = $1", ({"id": company.id}
                                                              if gw.backend == "sqlite"
                                                              else (company.id,)))).scalar()
    assert found == "Acme"


async def _backend(gw: Gateway) -> int:
    pool = await driver_pool(gw.state.engine)
    assert pool is not None
    rows = await driver_fetch(gw.state.engine, pool, "SELECT pg_backend_pid()")
    return int(rows[0][0])


async def test_statements_in_one_block_share_a_connection(gw: Gateway, database_url: str) -> None:
    """The portal query's lookup and lists: one connection, replaced if the server
    closed it meanwhile; tasks started in the block take their own."""
    if gw.backend != "postgres":
        pytest.skip("the driver pool is PostgreSQL's")
    async with one_connection():
        first = await _backend(gw)
        assert await _backend(gw) == first
        other, _ = await asyncio.gather(asyncio.create_task(_backend(gw)),
                                        asyncio.sleep(0))
        assert other != first

        admin = await asyncpg.connect(database_url)
        try:
            await admin.execute("SELECT pg_terminate_backend($1)", first)
        finally:
            await admin.close()
        replaced = await _backend(gw)
        assert replaced != first
        assert await _backend(gw) == replaced
