from __future__ import annotations

from gateway.kit import validate
from gateway.kit.amounts import amount_and_currency
from gateway.kit.ids import new_uuid
from gateway.kit.match import customer_match
from gateway.kit.service import Service
from gateway.models import Payment
from gateway.models.payment import PAYMENT_STATUSES
from gateway.payment.repository import PaymentRepository


class PaymentService(Service[PaymentRepository]):
    repository = PaymentRepository

    async def record(
        self,
        company_id: str,
        *,
        amount: str,
        currency: str,
        status: str,
        email: str | None = None,
        client_id: str | None = None,
        description: str | None = None,
    ) -> Payment:
        match_email, match_client = customer_match(email, client_id)
        value, code = amount_and_currency(amount, currency)
        payment = Payment(
            id=new_uuid(),
            company_id=company_id,
            email=match_email,
            client_id=match_client,
            amount=value,
            currency=code,
            status=validate.choice(status, "status", PAYMENT_STATUSES),
            description=validate.text(description, "description", max_length=500) or None,
            created_at=self.clock.now(),
        )
        return await self.repo.add(payment)
