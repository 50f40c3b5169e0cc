from __future__ import annotations

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.customer.service import CustomerService
from gateway.customer.types import Customer, CustomerConnection, CustomerEdge, connection
from gateway.graphql.context import Info
from gateway.kit.cursor import Page
from gateway.models import Customer as CustomerModel


@strawberry.type
class CustomerQuery:
    @strawberry.field(description="One of your customers, by UUID or UID. API key.")
    async def customer(self, info: Info, customer_id: strawberry.ID) -> Customer:
        principal = await info.context.merchant()
        service = CustomerService(info.context.session, info.context.state.clock)
        return Customer.from_model(await service.get(principal.company_id, customer_id))

    @strawberry.field(description="Your customers, newest first. API key.")
    async def customers(
        self,
        info: Info,
        first: int = 20,
        after: str | None = None,
        email: str | None = None,
        client_id: str | None = None,
    ) -> CustomerConnection:
        principal = await info.context.merchant()
        clock = info.context.state.clock

        async def listed(session: AsyncSession) -> Page[CustomerModel]:
            return await CustomerService(session, clock).list(
                principal.company_id, first=first, after=after, email=email, client_id=client_id)

        page = await info.context.lagging_read(listed)  # the read replica, if any
        return connection(CustomerConnection, CustomerEdge, Customer.from_model, page)
