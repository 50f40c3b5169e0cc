from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlmodel import col

from gateway.kit.repository import KeyedRepository
from gateway.models import ApiKey


class ApiKeyRepository(KeyedRepository[ApiKey]):
    model = ApiKey

    async def touch(self, key_id: str, at: datetime) -> None:
        await self.session.execute(
            update(ApiKey).where(col(ApiKey.id) == key_id).values(last_used_at=at)
        )
