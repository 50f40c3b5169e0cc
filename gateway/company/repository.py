from __future__ import annotations

from sqlalchemy import select, update
from sqlmodel import col

from gateway.kit.repository import KeyedRepository
from gateway.models import Company


class CompanyRepository(KeyedRepository[Company]):
    model = Company

    async def get_for_update(self, company_id: str) -> Company | None:
        """The row, current and held until the transaction ends, so that two concurrent
        read-modify-writes of its JSON both land. PostgreSQL locks the row. SQLite has no
        row locks, and its driver opens a transaction only at the first write: a no-op
        write takes the database's write lock before the read."""
        if self.session.get_bind().dialect.name == "sqlite":
            await self.session.execute(
                update(Company).where(col(Company.id) == company_id)
                .values(branding=Company.branding)
            )
        result = await self.session.execute(
            select(Company).where(col(Company.id) == company_id)
            .with_for_update().execution_options(populate_existing=True)
        )
        return result.scalar_one_or_none()
