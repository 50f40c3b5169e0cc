from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from gateway.models import Company


class CompanyRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, company_id: str) -> Company | None:
        return await self.session.get(Company, company_id)

    async def add(self, company: Company) -> Company:
        self.session.add(company)
        await self.session.flush()
        return company
