from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.models import Company


class CompanyRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, company_id: str) -> Company | None:
        return await self.session.get(Company, company_id)

    async def get_for_update(self, company_id: str) -> Company | None:
        """The row, locked until the transaction ends (PostgreSQL; SQLite lets one writer in
        at a time anyway), so two concurrent read-modify-writes of its JSON both land."""
        result = await self.session.execute(
            select(Company).where(Company.id == company_id).with_for_update()  # type: ignore[arg-type]
        )
        return result.scalar_one_or_none()

    async def add(self, company: Company) -> Company:
        self.session.add(company)
        await self.session.flush()
        return company
