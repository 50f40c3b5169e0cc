from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index
from sqlmodel import Field, SQLModel

from gateway.models.types import UTCDateTime


class SettingsChange(SQLModel, table=True):
    """A merchant's change to their portal settings or branding: the `settingsChanges`
    query's rows. A table of its own beside audit_events (the customers' changes from
    the portal), whose customer columns and queries stay as they are."""

    __tablename__ = "settings_changes"
    __table_args__ = (
        Index("ix_settings_changes_company_created", "company_id", "created_at", "id"),
    )

    id: uuid.UUID = Field(primary_key=True)
    company_id: str = Field(foreign_key="companies.id", max_length=69)
    action: str = Field(max_length=40)
    actor_type: str = Field(max_length=20)
    # The API key's id or the dashboard user's UUID; none for the operator's command.
    actor_id: str | None = Field(default=None, max_length=64)
    actor_email: str | None = Field(default=None, max_length=320)
    # {"returnUrl": {"before": ..., "after": ...}, ...}: only the fields that changed.
    changes: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    client_ip: str | None = Field(default=None, max_length=64)
    user_agent: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(sa_type=UTCDateTime)
