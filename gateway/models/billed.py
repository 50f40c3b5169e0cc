from __future__ import annotations

import uuid
from decimal import Decimal

from sqlmodel import Field, SQLModel

from gateway.models.types import Money


class Billed(SQLModel):
    """The columns of an amount billed to one of a company's customers, who is matched
    by email or client id (kit/match.py): payments and payment links. Not a table: each
    table model that subclasses it gets these columns first, in this order."""

    id: uuid.UUID = Field(primary_key=True)
    company_id: str = Field(foreign_key="companies.id", max_length=69)
    email: str | None = Field(default=None, max_length=320)
    client_id: str | None = Field(default=None, max_length=200)
    amount: Decimal = Field(sa_type=Money)
    currency: str = Field(max_length=10)
