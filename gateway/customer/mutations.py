from __future__ import annotations

import strawberry

from gateway.customer.service import CustomerService
from gateway.customer.types import CreateCustomerInput, Customer, UpdateCustomerInput
from gateway.graphql.context import Info, input_fields, merchant_write


@strawberry.type
class CustomerMutation:
    @strawberry.mutation(description="Create a customer. API key.")
    async def create_customer(self, info: Info, input: CreateCustomerInput) -> Customer:
        row = await merchant_write(info, lambda session, state, company_id: CustomerService(
            session, state.clock).create(company_id, **input_fields(input)))
        return Customer.from_model(row)

    @strawberry.mutation(description="Change a customer's name, clientId or metadata. API key.")
    async def update_customer(
        self, info: Info, customer_id: strawberry.ID, input: UpdateCustomerInput
    ) -> Customer:
        principal = await info.context.merchant()
        changes = {
            field: value
            for field, value in (
                ("name", input.name),
                ("client_id", input.client_id),
                ("metadata", input.metadata),
            )
            if value is not strawberry.UNSET
        }
        session = info.context.session
        row = await CustomerService(session, info.context.state.clock).update(
            principal.company_id, customer_id, changes
        )
        await session.commit()
        return Customer.from_model(row)
