from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.scalars import JSON

from gateway.kit.money import format_amount
from gateway.models import Subscription as SubscriptionModel


@strawberry.type(description="A recurring plan of a customer's.")
class BillingSubscription:
    id: strawberry.ID
    status: str = strawberry.field(
        description="active, trialing, past_due, unpaid, paused or cancelled."
    )
    plan_name: str
    amount: str
    currency: str
    interval: str = strawberry.field(description="day, week, month or year.")
    current_period_end: datetime | None

    @classmethod
    def from_model(cls, row: SubscriptionModel) -> BillingSubscription:
        return cls(
            id=strawberry.ID(str(row.id)),
            status=row.status,
            plan_name=row.plan_name,
            amount=format_amount(row.amount, row.currency),
            currency=row.currency,
            interval=row.interval,
            current_period_end=row.current_period_end,
        )


@strawberry.input(description="A subscription, matched to customers by email or metadata.clientId.")
class CreateSubscriptionInput:
    plan_name: str
    amount: str
    currency: str
    interval: str
    email: str | None = None
    metadata: JSON | None = None
    status: str = "active"
