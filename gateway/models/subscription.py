from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Column, Index, text
from sqlmodel import Field, SQLModel

from gateway.models.types import Money, UTCDateTime

SUBSCRIPTION_STATUSES = ("active", "trialing", "past_due", "unpaid", "paused", "cancelled")
INTERVALS = ("day", "week", "month", "year")
# The statuses a cancellation at the period end leaves running until then.
PERIOD_END_STATUSES = ("active", "trialing")


class Subscription(SQLModel, table=True):
    __tablename__ = "subscriptions"
    __table_args__ = (
        Index("ix_subscriptions_company_email", "company_id", "email"),
        Index("ix_subscriptions_company_client", "company_id", "client_id"),
        # The period-end job's scan: only the few rows set to end.
        Index("ix_subscriptions_period_end_due", "current_period_end",
              postgresql_where=text("cancel_at_period_end"),
              sqlite_where=text("cancel_at_period_end")),
    )

    id: uuid.UUID = Field(primary_key=True)
    company_id: str = Field(foreign_key="companies.id", max_length=69)
    email: str | None = Field(default=None, max_length=320)
    # metadata.clientId, copied into an indexed column when the row is written.
    client_id: str | None = Field(default=None, max_length=200)
    metadata_: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column("metadata", JSON, nullable=False)
    )
    plan_name: str = Field(max_length=200)
    amount: Decimal = Field(sa_type=Money)
    currency: str = Field(max_length=10)
    interval: str = Field(max_length=8)
    status: str = Field(default="active", max_length=16)
    current_period_end: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Cancelled by the period-end job at current_period_end (subscription/period_end.py).
    cancel_at_period_end: bool = Field(default=False)
    cancellation_reason: str | None = Field(default=None, max_length=40)
    cancellation_comment: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)

    def can_pause(self) -> bool:
        # A subscription set to end keeps running until then; pausing it would blur
        # whether it ends.
        return self.status == "active" and not self.cancel_at_period_end

    def can_reactivate(self) -> bool:
        return self.status == "paused" or self.cancel_at_period_end

    def can_cancel(self) -> bool:
        return self.status != "cancelled"

    def can_cancel_at_period_end(self) -> bool:
        """With cancellation at the period end: only these keep running until then;
        the other states (not cancelled) cancel at once."""
        return self.status in PERIOD_END_STATUSES and not self.cancel_at_period_end
