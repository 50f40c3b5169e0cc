from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from gateway.models.types import UTCDateTime


class Company(SQLModel, table=True):
    __tablename__ = "companies"

    id: str = Field(primary_key=True, max_length=69)
    name: str = Field(max_length=200)
    # The portal is served from this host once the merchant has proven they own it.
    portal_domain: str | None = Field(default=None, max_length=253)
    portal_domain_verified: bool = Field(default=False)
    branding: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    # company/portal_settings.py: only what differs from the defaults.
    portal_settings: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    created_at: datetime = Field(sa_type=UTCDateTime)
