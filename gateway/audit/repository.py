from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

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
            .where(AuditEvent.company_id == company_id, AuditEvent.customer_uid == customer_uid)
            .order_by(AuditEvent.created_at, AuditEvent.id)  # type: ignore[arg-type]
        )
        return list((await self.session.execute(query)).scalars())
