from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from gateway.models.types import Money, UTCDateTime

PAYMENT_STATUSES = ("pending", "paid", "failed", "refunded")


class Payment(SQLModel, table=True):
    __tablename__ = "payments"
    # The portal pages through a customer's payments newest first, matched by email
    # or client id: one index per match path, ordered like the page.
    __table_args__ = (
        Index("ix_payments_company_email_created", "company_id", "email", "created_at", "id"),
        Index(
            "ix_payments_company_client_created", "company_id", "client_id", "created_at", "id"
        ),
    )

    id: uuid.UUID = Field(primary_key=True)
    company_id: str = Field(foreign_key="companies.id", max_length=69)
    email: str | None = Field(default=None, max_length=320)
    client_id: str | None = Field(default=None, max_length=200)
    amount: Decimal = Field(sa_type=Money)
    currency: str = Field(max_length=10)
    status: str = Field(max_length=16)
    description: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(sa_type=UTCDateTime)
