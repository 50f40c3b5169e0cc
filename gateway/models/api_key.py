from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from gateway.models.types import UTCDateTime


class ApiKey(SQLModel, table=True):
    __tablename__ = "api_keys"

    id: str = Field(primary_key=True, max_length=80)
    company_id: str = Field(foreign_key="companies.id", index=True, max_length=69)
    name: str = Field(default="", max_length=200)
    secret_hash: str = Field(max_length=64)
    created_at: datetime = Field(sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
