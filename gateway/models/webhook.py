from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from gateway.models.types import UTCDateTime


class WebhookEndpoint(SQLModel, table=True):
    __tablename__ = "webhook_endpoints"
    __table_args__ = (Index("ix_webhook_endpoints_company_created", "company_id", "created_at", "id"),)

    id: uuid.UUID = Field(primary_key=True)
    company_id: str = Field(foreign_key="companies.id", max_length=69)
    url: str = Field(max_length=2000)
    # Empty: every type.
    event_types: list[str] = Field(default_factory=list, sa_column=Column("event_types", JSON,
                                                                          nullable=False))
    description: str | None = Field(default=None, max_length=500)
    enabled: bool = True
    disabled_reason: str | None = Field(default=None, max_length=300)
    # AES-GCM ciphertexts (webhook/secrets.py); the previous secret signs beside the
    # current one until previous_secret_expires_at.
    secret_encrypted: str = Field(max_length=200)
    previous_secret_encrypted: str | None = Field(default=None, max_length=200)
    previous_secret_expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # The first failed attempt since the last success: 5 days of failures disable.
    failing_since: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)


class WebhookDelivery(SQLModel, table=True):
    """One event for one endpoint: a job the worker claims with a lease."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("event_id", "endpoint_id", name="uq_webhook_deliveries_event_endpoint"),
        Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
        Index("ix_webhook_deliveries_endpoint", "endpoint_id"),
    )

    id: uuid.UUID = Field(primary_key=True)
    company_id: str = Field(max_length=69)
    event_id: uuid.UUID = Field(foreign_key="events.id", ondelete="CASCADE")
    endpoint_id: uuid.UUID = Field(foreign_key="webhook_endpoints.id", ondelete="CASCADE")
    status: str = Field(default="pending", max_length=12)  # pending, delivered, failed
    attempts: int = 0
    next_attempt_at: datetime = Field(sa_type=UTCDateTime)
    lease_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    lease_token: uuid.UUID | None = None
    created_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)


class WebhookAttempt(SQLModel, table=True):
    """What one attempt got: the delivery log of `webhookDeliveries`."""

    __tablename__ = "webhook_attempts"
    __table_args__ = (
        Index("ix_webhook_attempts_endpoint_created", "endpoint_id", "created_at", "id"),
        Index("ix_webhook_attempts_delivery", "delivery_id"),
    )

    id: uuid.UUID = Field(primary_key=True)
    company_id: str = Field(max_length=69)
    delivery_id: uuid.UUID = Field(foreign_key="webhook_deliveries.id", ondelete="CASCADE")
    endpoint_id: uuid.UUID = Field(foreign_key="webhook_endpoints.id", ondelete="CASCADE")
    event_id: uuid.UUID = Field(foreign_key="events.id", ondelete="CASCADE")
    number: int
    status_code: int | None = None
    duration_ms: int
    error: str | None = Field(default=None, max_length=500)
    response_body: str | None = Field(default=None, sa_column=Column("response_body", Text))
    next_attempt_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(sa_type=UTCDateTime)
