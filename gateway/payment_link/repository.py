from __future__ import annotations

from gateway.kit.repository import CompanyScopedRepository
from gateway.models import PaymentLink


class PaymentLinkRepository(CompanyScopedRepository[PaymentLink]):
    """The portal reads a customer's open links through portal/repository.py."""

    model = PaymentLink
