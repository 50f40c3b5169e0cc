from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.kit.match import CustomerMatch
from gateway.models import PaymentLink
from gateway.models.payment_link import OPEN_PAYMENT_LINK_STATUSES


class PaymentLinkRepository:
    """Every query is scoped by company: the company id is always the first argument."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, link: PaymentLink) -> PaymentLink:
        self.session.add(link)
        await self.session.flush()
        return link

    async def open_for_customer(
        self, company_id: str, match: CustomerMatch, now: datetime, limit: int
    ) -> list[PaymentLink]:
        """Active or unpaid and not past their expiry, newest first."""
        query = (
            select(PaymentLink)
            .where(
                PaymentLink.company_id == company_id,
                match.clause(PaymentLink),
                PaymentLink.status.in_(OPEN_PAYMENT_LINK_STATUSES),  # type: ignore[attr-defined]
                or_(PaymentLink.expires_at.is_(None), PaymentLink.expires_at > now),  # type: ignore[union-attr, operator]
            )
            .order_by(PaymentLink.created_at.desc(), PaymentLink.id.desc())  # type: ignore[attr-defined]
            .limit(limit)
        )
        return list((await self.session.execute(query)).scalars())
