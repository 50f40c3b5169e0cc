from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry

from gateway.graphql.scalars import text_id
from gateway.kit.money import format_amount
from gateway.models import PaymentLink as PaymentLinkModel


@strawberry.type(description="A hosted MakePay payment page for a customer.")
class PaymentLink:
    id: strawberry.ID
    url: str = strawberry.field(description="The hosted MakePay payment URL.")
    amount: str
    currency: str
    status: str = strawberry.field(description="active, unpaid, paid, expired or cancelled.")
    description: str | None
    expires_at: datetime | None

    @classmethod
    def from_model(cls, row: PaymentLinkModel) -> PaymentLink:
        return cls._of(row, row.expires_at)

    @classmethod
    def from_row(cls, row: Any) -> PaymentLink:
        """From a portal list row (portal/repository.py), whose `at` is the expiry."""
        return cls._of(row, row.at)

    @classmethod
    def _of(cls, row: Any, expires_at: datetime | None) -> PaymentLink:
        return cls(
            id=text_id(row.id),
            url=row.url,
            amount=format_amount(row.amount, row.currency),
            currency=row.currency,
            status=row.status,
            description=row.description,
            expires_at=expires_at,
        )


@strawberry.input(description="A payment link for a customer, matched by email or clientId.")
class CreatePaymentLinkInput:
    amount: str
    currency: str
    email: str | None = None
    client_id: str | None = None
    description: str | None = None
    expires_at: datetime | None = None
