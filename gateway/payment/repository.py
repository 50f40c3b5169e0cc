from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.kit.cursor import newest_first_after
from gateway.kit.match import CustomerMatch
from gateway.models import Payment


class PaymentRepository:
    """Every query is scoped by company: the company id is always the first argument."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, payment: Payment) -> Payment:
        self.session.add(payment)
        await self.session.flush()
        return payment

    async def list_for_customer(
        self,
        company_id: str,
        match: CustomerMatch,
        *,
        limit: int,
        after: tuple[datetime, uuid.UUID] | None = None,
    ) -> list[Payment]:
        query = select(Payment).where(Payment.company_id == company_id, match.clause(Payment))
        if after is not None:
            query = query.where(newest_first_after(Payment, after))
        query = query.order_by(Payment.created_at.desc(), Payment.id.desc()).limit(limit)  # type: ignore[attr-defined]
        return list((await self.session.execute(query)).scalars())
