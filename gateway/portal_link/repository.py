from __future__ import annotations

from sqlalchemy import func, select
from sqlmodel import col

from gateway.kit.repository import CompanyScopedRepository
from gateway.models import PortalRevocation


class PortalRevocationRepository(CompanyScopedRepository[PortalRevocation]):
    model = PortalRevocation

    async def revoked_before(self, company_id: str, customer_uid: str) -> int | None:
        """The latest revocation's cut-off for this customer, if any."""
        result = await self.session.execute(
            select(func.max(PortalRevocation.issued_before)).where(
                col(PortalRevocation.company_id) == company_id,
                col(PortalRevocation.customer_uid) == customer_uid,
            )
        )
        value = result.scalar_one_or_none()
        return int(value) if value is not None else None
