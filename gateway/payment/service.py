from __future__ import annotations

from gateway.kit import validate
from gateway.kit.amounts import billed_columns
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
        payment = Payment(
            **billed_columns(company_id, amount, currency, email, client_id),
            status=validate.choice(status, "status", PAYMENT_STATUSES),
            description=validate.text(description, "description", max_length=500) or None,
            created_at=self.clock.now(),
        )
        return await self.repo.add(payment)
