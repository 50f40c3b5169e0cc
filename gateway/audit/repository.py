from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select
from sqlmodel import col

from gateway.kit.repository import CompanyScopedRepository
from gateway.models import AuditEvent, SettingsChange

_INSERT_AUDIT_EVENT = insert(AuditEvent.__table__)  # type: ignore[attr-defined]


class AuditEventRepository(CompanyScopedRepository[AuditEvent]):
    """Every query is scoped by company: the company id is always the first argument.
    Pages come from newest_first, served by the (company, created_at, id) index, or by
    (company, customer_uid, created_at, id) when filtered by customer."""

    model = AuditEvent

    async def insert(self, row: dict[str, Any]) -> None:
        """One row in the caller's transaction: a statement built once on the table, so
        only its parameters change (no unit-of-work flush, no identity map)."""
        await self.session.execute(_INSERT_AUDIT_EVENT, row)

    async def list_for_customer(self, company_id: str, customer_uid: str) -> list[AuditEvent]:
        query = (
            select(AuditEvent)
            .where(col(AuditEvent.company_id) == company_id, col(AuditEvent.customer_uid) == customer_uid)
            .order_by(col(AuditEvent.created_at), col(AuditEvent.id))
        )
        return list((await self.session.execute(query)).scalars())


class SettingsChangeRepository(CompanyScopedRepository[SettingsChange]):
    """The merchant's settings changes; pages come from CompanyScopedRepository.newest_first,
    served by the (company, created_at, id) index."""

    model = SettingsChange
