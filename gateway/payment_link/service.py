from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from gateway.errors import BadRequest
from gateway.kit import validate
from gateway.kit.amounts import billed_columns
from gateway.kit.service import Service
from gateway.kit.time import Clock
from gateway.models import PaymentLink
from gateway.payment_link.repository import PaymentLinkRepository

# The portal lists open links on one screen; past this many, the newest are the ones to show.
MAX_OPEN_LINKS = 100


class PaymentLinkService(Service[PaymentLinkRepository]):
    repository = PaymentLinkRepository

    def __init__(self, session: AsyncSession, clock: Clock, payment_base_url: str) -> None:
        super().__init__(session, clock)
        self.payment_base_url = payment_base_url

    async def create(
        self,
        company_id: str,
        *,
        amount: str,
        currency: str,
        email: str | None = None,
        client_id: str | None = None,
        description: str | None = None,
        expires_at: datetime | None = None,
    ) -> PaymentLink:
        billed = billed_columns(company_id, amount, currency, email, client_id)
        now = self.clock.now()
        if expires_at is not None:
            if expires_at.tzinfo is None:
                raise BadRequest("expiresAt must carry a time zone, e.g. 2026-05-01T00:00:00Z.")
            if expires_at <= now:
                raise BadRequest("expiresAt must be in the future.")
        link = PaymentLink(
            **billed,
            status="active",
            description=validate.text(description, "description", max_length=500) or None,
            url=f"{self.payment_base_url}/pay/{billed['id']}",
            expires_at=expires_at,
            created_at=now,
        )
        return await self.repo.add(link)
