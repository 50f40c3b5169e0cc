from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Column, Index, Text, text
from sqlmodel import Field, SQLModel

from gateway.models.types import UTCDateTime


class Event(SQLModel, table=True):
    """A change the merchant hears of: the `events` query's rows, and the outbox the
    delivery worker fans out to webhook endpoints (`dispatched_at` still null)."""

    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_company_created", "company_id", "created_at", "id"),
        Index("ix_events_company_type_created", "company_id", "type", "created_at", "id"),
        Index("ix_events_undispatched", "id",
              postgresql_where=text("dispatched_at IS NULL"),
              sqlite_where=text("dispatched_at IS NULL")),
        Index("ix_events_created", "created_at"),
    )

    # A ULID held as a UUID: time-ordered, shown as evt_ + its 26 base32 characters.
    id: uuid.UUID = Field(primary_key=True)
    company_id: str = Field(foreign_key="companies.id", max_length=69)
    type: str = Field(max_length=40)
    source: str = Field(max_length=20)
    # The exact JSON a webhook carries (and signs), written once.
    body: str = Field(sa_column=Column("body", Text, nullable=False))
    created_at: datetime = Field(sa_type=UTCDateTime)
    dispatched_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
