from __future__ import annotations

from gateway.kit.repository import CompanyScopedRepository
from gateway.models import Payment


class PaymentRepository(CompanyScopedRepository[Payment]):
    """The portal reads a customer's payments through portal/repository.py."""

    model = Payment
