from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from gateway.models.types import UTCDateTime


class PortalRevocation(SQLModel, table=True):
    """Durable record of revokePortalLinks: links issued at or before `issued_before` die."""

    __tablename__ = "portal_revocations"
    __table_args__ = (
        Index("ix_portal_revocations_company_customer", "company_id", "customer_uid"),
    )

    id: uuid.UUID = Field(primary_key=True)
    company_id: str = Field(foreign_key="companies.id", max_length=69)
    customer_uid: str = Field(max_length=30)
    # Unix seconds: links whose issue time (expires - 86400) is <= this are revoked.
    issued_before: int
    created_at: datetime = Field(sa_type=UTCDateTime)
