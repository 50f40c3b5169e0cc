from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index
from sqlmodel import Field

from gateway.models.billed import Billed
from gateway.models.types import UTCDateTime

PAYMENT_LINK_STATUSES = ("active", "unpaid", "paid", "expired", "cancelled")
OPEN_PAYMENT_LINK_STATUSES = ("active", "unpaid")


class PaymentLink(Billed, table=True):
    __tablename__ = "payment_links"
    __table_args__ = (
        Index("ix_payment_links_company_email", "company_id", "email", "status"),
        Index("ix_payment_links_company_client", "company_id", "client_id", "status"),
    )

    status: str = Field(default="active", max_length=16)
    description: str | None = Field(default=None, max_length=500)
    url: str = Field(max_length=500)
    expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(sa_type=UTCDateTime)
