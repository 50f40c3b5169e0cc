from __future__ import annotations

import strawberry

from gateway.graphql.context import Info
from gateway.payment.service import PaymentService
from gateway.payment.types import Payment, RecordPaymentInput


@strawberry.type
class PaymentMutation:
    @strawberry.mutation(description="Record a payment, matched to customers by email or clientId. API key.")
    async def record_payment(self, info: Info, input: RecordPaymentInput) -> Payment:
        principal = await info.context.merchant()
        session = info.context.session
        row = await PaymentService(session, info.context.state.clock).record(
            principal.company_id,
            amount=input.amount,
            currency=input.currency,
            status=input.status,
            email=input.email,
            client_id=input.client_id,
            description=input.description,
        )
        await session.commit()
        return Payment.from_model(row)
