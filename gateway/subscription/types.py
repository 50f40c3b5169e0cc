from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from strawberry.scalars import JSON

from gateway.graphql.scalars import text_id
from gateway.kit.money import format_amount
from gateway.kit.time import parse_iso
from gateway.models import Subscription as SubscriptionModel
from gateway.subscription.service import snapshot


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
    cancel_at_period_end: bool = strawberry.field(
        description="True while the subscription runs until currentPeriodEnd and is then "
        "cancelled; reactivateSubscription clears it.")
    cancellation_reason: str | None = strawberry.field(
        description="The reason code the customer gave when cancelling.")
    cancellation_comment: str | None = strawberry.field(
        description="The customer's comment when cancelling (at most 500 characters).")

    @classmethod
    def from_model(cls, row: SubscriptionModel) -> BillingSubscription:
        return cls.from_snapshot(snapshot(row))

    @classmethod
    def from_row(cls, row: Any) -> BillingSubscription:
        """From a portal list row (portal/repository.py), whose `at` is the period end:
        what from_model shows, without the snapshot's round trip through text."""
        return cls(
            id=text_id(row.id),
            status=row.status,
            plan_name=row.plan_name,
            amount=format_amount(row.amount, row.currency),
            currency=row.currency,
            interval=row.interval,
            current_period_end=row.at,
            cancel_at_period_end=row.cancel_at_period_end,
            cancellation_reason=row.cancellation_reason,
            cancellation_comment=row.cancellation_comment,
        )

    @classmethod
    def from_snapshot(cls, data: dict[str, Any]) -> BillingSubscription:
        end = data["currentPeriodEnd"]
        return cls(
            id=strawberry.ID(data["id"]),
            status=data["status"],
            plan_name=data["planName"],
            amount=data["amount"],
            currency=data["currency"],
            interval=data["interval"],
            current_period_end=parse_iso(end) if end else None,
            # Idempotent results kept before these fields existed lack them.
            cancel_at_period_end=data.get("cancelAtPeriodEnd", False),
            cancellation_reason=data.get("cancellationReason"),
            cancellation_comment=data.get("cancellationComment"),
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
