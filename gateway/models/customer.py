from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from gateway.models.types import UTCDateTime


class Customer(SQLModel, table=True):
    __tablename__ = "customers"
    __table_args__ = (
        UniqueConstraint("company_id", "uid", name="uq_customers_company_uid"),
        Index("ix_customers_company_email", "company_id", "email"),
        Index("ix_customers_company_client_id", "company_id", "client_id"),
        Index("ix_customers_company_created", "company_id", "created_at", "id"),
    )

    id: uuid.UUID = Field(primary_key=True)
    uid: str = Field(max_length=30)
    company_id: str = Field(foreign_key="companies.id", max_length=69)
    email: str = Field(max_length=320)
    name: str | None = Field(default=None, max_length=200)
    client_id: str | None = Field(default=None, max_length=200)
    metadata_: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column("metadata", JSON, nullable=False)
    )
    created_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)
