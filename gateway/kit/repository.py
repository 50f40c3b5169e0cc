"""The shape the repositories share: add a row, get one by its key, read a keyset
page newest first (optionally filtered by column values). A repository subclasses
one of these, names its `model`, and adds its own statements."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, ClassVar, Generic, TypeVar, cast

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel

from gateway.kit.cursor import newest_first_after

ModelT = TypeVar("ModelT", bound=SQLModel)


class Repository(Generic[ModelT]):
    model: ClassVar[type[SQLModel]]

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, row: ModelT) -> ModelT:
        self.session.add(row)
        await self.session.flush()
        return row


class KeyedRepository(Repository[ModelT]):
    """For tables whose key is all a caller can know before it knows the company:
    companies, API keys (the key id leads to the company), dashboard users."""

    async def get(self, key: Any) -> ModelT | None:
        return cast(ModelT | None, await self.session.get(self.model, key))


class CompanyScopedRepository(Repository[ModelT]):
    """For a company's data: every query takes the company id as its first argument."""

    async def newest_first(
        self,
        company_id: str,
        *,
        limit: int,
        after: tuple[datetime, uuid.UUID] | None = None,
        **equal: object,
    ) -> list[ModelT]:
        """A keyset page in (created_at desc, id desc) order: `limit` rows after the
        cursor `after`, served by the model's (company_id, ..., created_at, id) indexes.
        `equal` keeps the rows whose column of that name holds the value; a filter given
        as None is left out, so optional filters pass straight through."""
        model: Any = self.model
        query = select(model).where(model.company_id == company_id, *(
            getattr(model, name) == value for name, value in equal.items() if value is not None))
        if after is not None:
            query = query.where(newest_first_after(model, after))
        query = query.order_by(model.created_at.desc(), model.id.desc()).limit(limit)
        return list((await self.session.execute(query)).scalars())
