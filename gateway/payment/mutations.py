from __future__ import annotations

import strawberry

from gateway.graphql.context import Info, input_fields, merchant_write
from gateway.payment.service import PaymentService
from gateway.payment.types import Payment, RecordPaymentInput


@strawberry.type
class PaymentMutation:
    @strawberry.mutation(description="Record a payment, matched to customers by email or clientId. API key.")
    async def record_payment(self, info: Info, input: RecordPaymentInput) -> Payment:
        row = await merchant_write(info, lambda session, state, company_id: PaymentService(
            session, state.clock).record(company_id, **input_fields(input)))
        return Payment.from_model(row)
