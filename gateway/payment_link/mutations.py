from __future__ import annotations

import strawberry

from gateway.graphql.context import Info
from gateway.payment_link.service import PaymentLinkService
from gateway.payment_link.types import CreatePaymentLinkInput, PaymentLink


@strawberry.type
class PaymentLinkMutation:
    @strawberry.mutation(description="Create a hosted payment link for a customer. API key.")
    async def create_payment_link(self, info: Info, input: CreatePaymentLinkInput) -> PaymentLink:
        principal = await info.context.merchant()
        state = info.context.state
        session = info.context.session
        row = await PaymentLinkService(session, state.clock, state.settings.payment_base_url).create(
            principal.company_id,
            amount=input.amount,
            currency=input.currency,
            email=input.email,
            client_id=input.client_id,
            description=input.description,
            expires_at=input.expires_at,
        )
        await session.commit()
        return PaymentLink.from_model(row)
