from __future__ import annotations

import asyncio
import uuid
from datetime import datetime
from weakref import WeakKeyDictionary

import asyncpg
from sqlalchemy import Engine, delete, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col

from gateway.db import DRIVER_UNREACHABLE, driver_pool
from gateway.kit.prebuilt import driver_sql, unnest_insert
from gateway.kit.repository import CompanyScopedRepository
from gateway.models import Event

# Rows as (id, company_id, type, source, body, created_at).
_ROW_COLUMNS = ("id", "company_id", "type", "source", "body", "created_at")
_INSERT_ROWS_SQL = driver_sql(
    unnest_insert(Event.__table__, _ROW_COLUMNS)  # type: ignore[attr-defined]
    .on_conflict_do_nothing(index_elements=["id"]),
    tuple(f"b_{name}" for name in _ROW_COLUMNS))
EventRow = tuple[uuid.UUID, str, str, str, str, datetime]
_INSERT_EVENT = insert(Event.__table__)  # type: ignore[attr-defined]


class EventRepository(CompanyScopedRepository[Event]):
    """Every query that reads a company's events takes its id first. Pages come from
    newest_first (filtered by `type` or not)."""

    model = Event

    async def insert(self, event: Event) -> None:
        # One statement in the caller's transaction, on the table (no ORM bulk-insert
        # machinery, no identity map) and built once: its compiled form is cached and
        # only the parameters change (~150 us less than a fresh insert(Event).values()).
        await self.session.execute(_INSERT_EVENT, {
            "id": event.id, "company_id": event.company_id, "type": event.type,
            "source": event.source, "body": event.body, "created_at": event.created_at,
            "dispatched_at": event.dispatched_at})

    async def get(self, company_id: str, event_id: uuid.UUID) -> Event | None:
        query = select(Event).where(col(Event.company_id) == company_id, col(Event.id) == event_id)
        return (await self.session.execute(query)).scalar_one_or_none()

    async def prune(self, before: datetime) -> int:
        """Events past retention, with their deliveries and attempts (ON DELETE CASCADE)."""
        result = await self.session.execute(delete(Event).where(col(Event.created_at) < before))
        return int(result.rowcount)  # type: ignore[attr-defined]


class _GroupInsert:
    """Events that are the only write of their requests (portal links issued), written
    together: every row waiting when a write starts goes in one autocommitted INSERT,
    and each request returns once the statement holding its row has committed, as a
    single INSERT of its own would. Under load that is one round trip and one commit
    for many requests (a merchant's burst of billing clicks) instead of one each;
    alone, a request writes at once. A failure fails every request of its batch, so
    none reports an event that was not written."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool
        self.waiting: list[tuple[EventRow, asyncio.Future[None]]] = []
        self.writer: asyncio.Task[None] | None = None

    async def add(self, row: EventRow) -> None:
        future = asyncio.get_running_loop().create_future()
        self.waiting.append((row, future))
        if self.writer is None:
            self.writer = asyncio.get_running_loop().create_task(self._write())
        await future

    async def _write(self) -> None:
        """Batches until no row is waiting, on one connection held while rows keep
        coming: one acquire and release per busy spell, not per batch."""
        try:
            while self.waiting:
                batch: list[tuple[EventRow, asyncio.Future[None]]] = []
                try:
                    async with self.pool.acquire() as conn:
                        while self.waiting:
                            batch, self.waiting = self.waiting, []
                            await conn.execute(_INSERT_ROWS_SQL, *_columns(batch))
                            _settle(batch, None)
                            batch = []
                except DRIVER_UNREACHABLE:
                    # A connection the server dropped, or none to be had: the rows once
                    # more, on a fresh one (the same ids: harmless).
                    batch, self.waiting = batch + self.waiting, []
                    try:
                        await self.pool.execute(_INSERT_ROWS_SQL, *_columns(batch))
                    except Exception as again:  # every request of the batch reports it
                        _settle(batch, again)
                    else:
                        _settle(batch, None)
                except Exception as exc:
                    if not batch:  # the connection itself failed: the rows waiting for it
                        batch, self.waiting = self.waiting, []
                    _settle(batch, exc)
        finally:
            self.writer = None


def _columns(batch: list[tuple[EventRow, asyncio.Future[None]]]) -> list[list[object]]:
    return [list(column) for column in zip(*(row for row, _ in batch), strict=True)]


def _settle(batch: list[tuple[EventRow, asyncio.Future[None]]], exc: BaseException | None) -> None:
    for _, future in batch:
        if not future.done():  # a request that went away has cancelled its own
            if exc is None:
                future.set_result(None)
            else:
                future.set_exception(exc)


# By the sync Engine, as db.driver_pool keys its pools.
_group_inserts: WeakKeyDictionary[Engine, _GroupInsert] = WeakKeyDictionary()


async def add_outside_session(engine: AsyncEngine, row: EventRow) -> None:
    """An event that is the only write of its request (a portal link issued), committed
    before this returns: grouped with other requests' on PostgreSQL (_GroupInsert),
    one autocommitted INSERT on SQLite."""
    pool = await driver_pool(engine)
    if pool is not None:
        sync = engine.sync_engine
        group = _group_inserts.get(sync)
        if group is None or group.pool is not pool:
            group = _group_inserts[sync] = _GroupInsert(pool)
        await group.add(row)
        return
    event_id, company_id, event_type, source, body, created_at = row
    async with engine.begin() as conn:
        await conn.execute(insert(Event).values(
            id=event_id, company_id=company_id, type=event_type, source=source, body=body,
            created_at=created_at))
