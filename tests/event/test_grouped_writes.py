"""Link events written together (event/repository.py's grouped INSERT): a connection
the server drops mid-write costs the request nothing, and its event is written once."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import pytest

from gateway.event.repository import add_outside_session
from gateway.event.service import Source, event_row
from tests.factories import create_company
from tests.support import Gateway

pytestmark = pytest.mark.parametrize("backend", [("postgres", "redis")], indirect=True)

WAITING_INSERTS = ("SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                   "AND wait_event_type = 'Lock' AND query LIKE 'INSERT INTO events%'")


async def _waiting_insert(admin: asyncpg.Connection, other_than: int | None = None) -> int:
    """The backend of an event INSERT held on a lock (not `other_than`)."""
    for _ in range(500):
        pids = [row["pid"] for row in await admin.fetch(WAITING_INSERTS)]
        pids = [pid for pid in pids if pid != other_than]
        if pids:
            return int(pids[0])
        await asyncio.sleep(0.01)
    raise AssertionError("no event INSERT waited on the lock")


async def test_a_write_whose_connection_is_dropped_is_made_on_another(
    gw: Gateway, database_url: str
) -> None:
    company = await create_company(gw)
    row = event_row(gw.state.clock, company.id, "portal_link.created", Source.merchant_api,
                    {"customerId": "cus_test"})
    event_id = row[0]
    holder = await asyncpg.connect(database_url)
    admin = await asyncpg.connect(database_url)
    try:
        # An uncommitted row with the same id holds the grouped INSERT on its lock, so
        # its connection can be dropped while the write is in flight.
        holding = holder.transaction()
        await holding.start()
        await holder.execute(
            "INSERT INTO events (id, company_id, type, source, body, created_at) "
            "VALUES ($1, $2, 'webhook.test', 'system', '{}', now())", event_id, company.id)
        write = asyncio.create_task(add_outside_session(gw.state.engine, row))
        first = await _waiting_insert(admin)
        await admin.execute("SELECT pg_terminate_backend($1)", first)
        await _waiting_insert(admin, other_than=first)  # the write, once more
        await holding.rollback()
        await asyncio.wait_for(write, 10)  # the request's write succeeded
        stored = await admin.fetch("SELECT type, body FROM events WHERE id = $1",
                                   uuid.UUID(str(event_id)))
    finally:
        await holder.close()
        await admin.close()
    assert [(r["type"], r["body"]) for r in stored] == [("portal_link.created", row[4])]
