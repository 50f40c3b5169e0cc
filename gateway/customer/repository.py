from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.kit.cursor import newest_first_after
from gateway.models import Company, Customer


class CustomerRepository:
    """Every query is scoped by company: the company id is always the first argument."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get_by_id(self, company_id: str, customer_id: uuid.UUID) -> Customer | None:
        result = await self.session.execute(
            select(Customer).where(Customer.company_id == company_id, Customer.id == customer_id)
        )
        return result.scalar_one_or_none()

    async def get_by_uid(self, company_id: str, uid: str) -> Customer | None:
        result = await self.session.execute(
            select(Customer).where(Customer.company_id == company_id, Customer.uid == uid)
        )
        return result.scalar_one_or_none()

    async def get_with_company(
        self, company_id: str, customer_id: uuid.UUID | None, uid: str | None
    ) -> tuple[Customer, Company] | None:
        condition = Customer.id == customer_id if customer_id is not None else Customer.uid == uid
        result = await self.session.execute(
            select(Customer, Company)
            .join(Company, Company.id == Customer.company_id)  # type: ignore[arg-type]
            .where(Customer.company_id == company_id, condition)
        )
        row = result.first()
        return None if row is None else (row[0], row[1])

    async def add(self, customer: Customer) -> Customer:
        self.session.add(customer)
        await self.session.flush()
        return customer

    async def list(
        self,
        company_id: str,
        *,
        limit: int,
        after: tuple[datetime, uuid.UUID] | None = None,
        email: str | None = None,
        client_id: str | None = None,
    ) -> list[Customer]:
        query = select(Customer).where(Customer.company_id == company_id)
        if email is not None:
            query = query.where(Customer.email == email)
        if client_id is not None:
            query = query.where(Customer.client_id == client_id)
        if after is not None:
            query = query.where(newest_first_after(Customer, after))
        query = query.order_by(Customer.created_at.desc(), Customer.id.desc()).limit(limit)  # type: ignore[attr-defined]
        return list((await self.session.execute(query)).scalars())
