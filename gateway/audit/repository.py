from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from gateway.kit.cursor import newest_first_after
from gateway.models import AuditEvent


class AuditEventRepository:
    """Every query is scoped by company: the company id is always the first argument."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, event: AuditEvent) -> None:
        self.session.add(event)
        await self.session.flush()

    async def list_for_customer(self, company_id: str, customer_uid: str) -> list[AuditEvent]:
        query = (
            select(AuditEvent)
            .where(col(AuditEvent.company_id) == company_id, col(AuditEvent.customer_uid) == customer_uid)
            .order_by(col(AuditEvent.created_at), col(AuditEvent.id))
        )
        return list((await self.session.execute(query)).scalars())

    async def list(
        self,
        company_id: str,
        *,
        limit: int,
        after: tuple[datetime, uuid.UUID] | None = None,
        customer_uid: str | None = None,
    ) -> list[AuditEvent]:
        """Newest first; served by the (company, created_at, id) index, or by
        (company, customer_uid, created_at, id) when filtered by customer."""
        query = select(AuditEvent).where(col(AuditEvent.company_id) == company_id)
        if customer_uid is not None:
            query = query.where(col(AuditEvent.customer_uid) == customer_uid)
        if after is not None:
            query = query.where(newest_first_after(AuditEvent, after))
        query = query.order_by(
            col(AuditEvent.created_at).desc(), col(AuditEvent.id).desc()
        ).limit(limit)
        return list((await self.session.execute(query)).scalars())
