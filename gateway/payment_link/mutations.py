from __future__ import annotations

import strawberry

from gateway.graphql.context import Info, input_fields, merchant_write
from gateway.payment_link.service import PaymentLinkService
from gateway.payment_link.types import CreatePaymentLinkInput, PaymentLink


@strawberry.type
class PaymentLinkMutation:
    @strawberry.mutation(description="Create a hosted payment link for a customer. API key.")
    async def create_payment_link(self, info: Info, input: CreatePaymentLinkInput) -> PaymentLink:
        row = await merchant_write(info, lambda session, state, company_id: PaymentLinkService(
            session, state.clock, state.settings.payment_base_url,
        ).create(company_id, **input_fields(input)))
        return PaymentLink.from_model(row)
