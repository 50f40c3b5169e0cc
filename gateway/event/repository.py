from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlmodel import col

from gateway.db import DRIVER_UNREACHABLE, driver_pool
from gateway.kit.cursor import newest_first_after
from gateway.models import Event

_INSERT_SQL = (
    "INSERT INTO events (id, company_id, type, source, body, created_at) "
    "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING"
)


class EventRepository:
    """Every query that reads a company's events takes its id first."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, event: Event) -> None:
        # Core INSERT: one statement in the caller's transaction, no identity map work.
        await self.session.execute(insert(Event).values(
            id=event.id, company_id=event.company_id, type=event.type, source=event.source,
            body=event.body, created_at=event.created_at, dispatched_at=event.dispatched_at))

    async def get(self, company_id: str, event_id: uuid.UUID) -> Event | None:
        query = select(Event).where(col(Event.company_id) == company_id, col(Event.id) == event_id)
        return (await self.session.execute(query)).scalar_one_or_none()

    async def list(
        self,
        company_id: str,
        *,
        limit: int,
        after: tuple[datetime, uuid.UUID] | None = None,
        event_type: str | None = None,
    ) -> list[Event]:
        query = select(Event).where(col(Event.company_id) == company_id)
        if event_type is not None:
            query = query.where(col(Event.type) == event_type)
        if after is not None:
            query = query.where(newest_first_after(Event, after))
        query = query.order_by(col(Event.created_at).desc(), col(Event.id).desc()).limit(limit)
        return list((await self.session.execute(query)).scalars())

    async def prune(self, before: datetime) -> int:
        """Events past retention, with their deliveries and attempts (ON DELETE CASCADE)."""
        result = await self.session.execute(delete(Event).where(col(Event.created_at) < before))
        return int(result.rowcount)  # type: ignore[attr-defined]


async def add_outside_session(engine: AsyncEngine, event: Event) -> None:
    """An event that is the only write of its request (a portal link issued): one
    autocommitted INSERT. Repeating it is harmless (same id), so a connection the
    server dropped costs one retry, as for the driver pool's reads."""
    pool = await driver_pool(engine)
    args = (event.id, event.company_id, event.type, event.source, event.body, event.created_at)
    if pool is not None:
        try:
            await pool.execute(_INSERT_SQL, *args)
        except DRIVER_UNREACHABLE:
            await pool.execute(_INSERT_SQL, *args)
        return
    async with engine.begin() as conn:
        await conn.execute(insert(Event).values(
            id=event.id, company_id=event.company_id, type=event.type, source=event.source,
            body=event.body, created_at=event.created_at))
