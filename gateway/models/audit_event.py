from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index
from sqlmodel import Field, SQLModel

from gateway.models.types import UTCDateTime


class AuditEvent(SQLModel, table=True):
    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_company_created", "company_id", "created_at", "id"),
        Index("ix_audit_events_company_customer_created",
              "company_id", "customer_uid", "created_at", "id"),
    )

    id: uuid.UUID = Field(primary_key=True)
    company_id: str = Field(foreign_key="companies.id", max_length=69)
    customer_uid: str = Field(max_length=30)
    action: str = Field(max_length=40)
    subject_type: str = Field(max_length=40)
    subject_id: str = Field(max_length=64)
    state_before: str | None = Field(default=None, max_length=200)
    state_after: str | None = Field(default=None, max_length=200)
    client_ip: str | None = Field(default=None, max_length=64)
    user_agent: str | None = Field(default=None, max_length=500)
    idempotency_key: str | None = Field(default=None, max_length=200)
    # What else the change carried, e.g. a cancellation's reason and comment.
    details: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    created_at: datetime = Field(sa_type=UTCDateTime)
