from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from gateway.models import PaymentLink


class PaymentLinkRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, link: PaymentLink) -> PaymentLink:
        self.session.add(link)
        await self.session.flush()
        return link
