from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from gateway.models.types import Money, UTCDateTime

PAYMENT_LINK_STATUSES = ("active", "unpaid", "paid", "expired", "cancelled")
OPEN_PAYMENT_LINK_STATUSES = ("active", "unpaid")


class PaymentLink(SQLModel, table=True):
    __tablename__ = "payment_links"
    __table_args__ = (
        Index("ix_payment_links_company_email", "company_id", "email", "status"),
        Index("ix_payment_links_company_client", "company_id", "client_id", "status"),
    )

    id: uuid.UUID = Field(primary_key=True)
    company_id: str = Field(foreign_key="companies.id", max_length=69)
    email: str | None = Field(default=None, max_length=320)
    client_id: str | None = Field(default=None, max_length=200)
    amount: Decimal = Field(sa_type=Money)
    currency: str = Field(max_length=10)
    status: str = Field(default="active", max_length=16)
    description: str | None = Field(default=None, max_length=500)
    url: str = Field(max_length=500)
    expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(sa_type=UTCDateTime)
