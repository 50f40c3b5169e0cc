from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry

from gateway.graphql.scalars import text_id
from gateway.kit.money import format_amount
from gateway.models import Payment as PaymentModel


@strawberry.type(description="A payment by a customer.")
class Payment:
    id: strawberry.ID
    amount: str = strawberry.field(description="Decimal string in the currency's precision.")
    currency: str
    status: str = strawberry.field(description="pending, paid, failed or refunded.")
    description: str | None
    created_at: datetime

    @classmethod
    def from_row(cls, row: Any) -> Payment:
        """From anything with the model's attribute names (an ORM row or a selected row)."""
        return cls(
            id=text_id(row.id),
            amount=format_amount(row.amount, row.currency),
            currency=row.currency,
            status=row.status,
            description=row.description,
            created_at=row.created_at,
        )

    @classmethod
    def from_model(cls, row: PaymentModel) -> Payment:
        return cls.from_row(row)


@strawberry.input(description="A payment to show in the customer's history.")
class RecordPaymentInput:
    amount: str = strawberry.field(description='Decimal string, e.g. "49.00".')
    currency: str
    status: str
    email: str | None = None
    client_id: str | None = None
    description: str | None = None
