from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from gateway.models import Payment


class PaymentRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, payment: Payment) -> Payment:
        self.session.add(payment)
        await self.session.flush()
        return payment
