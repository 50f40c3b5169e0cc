from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index
from sqlmodel import Field

from gateway.models.billed import Billed
from gateway.models.types import UTCDateTime

PAYMENT_STATUSES = ("pending", "paid", "failed", "refunded")


class Payment(Billed, table=True):
    __tablename__ = "payments"
    # The portal pages through a customer's payments newest first, matched by email
    # or client id: one index per match path, ordered like the page.
    __table_args__ = (
        Index("ix_payments_company_email_created", "company_id", "email", "created_at", "id"),
        Index(
            "ix_payments_company_client_created", "company_id", "client_id", "created_at", "id"
        ),
    )

    status: str = Field(max_length=16)
    description: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(sa_type=UTCDateTime)
