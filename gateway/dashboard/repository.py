from __future__ import annotations

import uuid

from sqlalchemy import select, update
from sqlmodel import col

from gateway.kit.repository import KeyedRepository, Repository
from gateway.models import Membership, User


class UserRepository(KeyedRepository[User]):
    model = User

    async def get_by_email(self, email: str) -> User | None:
        result = await self.session.execute(select(User).where(col(User.email) == email))
        return result.scalar_one_or_none()

    async def set_password_hash(self, user_id: uuid.UUID, password_hash: str) -> None:
        await self.session.execute(
            update(User).where(col(User.id) == user_id).values(password_hash=password_hash)
        )


class MembershipRepository(Repository[Membership]):
    model = Membership

    async def get(self, company_id: str, user_id: uuid.UUID, *, for_update: bool = False) -> Membership | None:
        query = select(Membership).where(
            col(Membership.company_id) == company_id, col(Membership.user_id) == user_id
        )
        if for_update:
            query = query.with_for_update()
        result = await self.session.execute(query)
        return result.scalar_one_or_none()

    async def for_user(self, user_id: uuid.UUID) -> list[Membership]:
        """The teams a user belongs to; scoped by the user, who may see their own."""
        result = await self.session.execute(
            select(Membership).where(col(Membership.user_id) == user_id)
            .order_by(Membership.company_id)
        )
        return list(result.scalars())
