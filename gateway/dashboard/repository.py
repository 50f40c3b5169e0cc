from __future__ import annotations

import uuid

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from gateway.models import Membership, User


class UserRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, user_id: uuid.UUID) -> User | None:
        return await self.session.get(User, user_id)

    async def get_by_email(self, email: str) -> User | None:
        result = await self.session.execute(select(User).where(col(User.email) == email))
        return result.scalar_one_or_none()

    async def add(self, user: User) -> User:
        self.session.add(user)
        await self.session.flush()
        return user

    async def set_password_hash(self, user_id: uuid.UUID, password_hash: str) -> None:
        await self.session.execute(
            update(User).where(col(User.id) == user_id).values(password_hash=password_hash)
        )


class MembershipRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, company_id: str, user_id: uuid.UUID, *, for_update: bool = False) -> Membership | None:
        query = select(Membership).where(
            col(Membership.company_id) == company_id, col(Membership.user_id) == user_id
        )
        if for_update:
            query = query.with_for_update()
        result = await self.session.execute(query)
        return result.scalar_one_or_none()

    async def add(self, membership: Membership) -> Membership:
        self.session.add(membership)
        await self.session.flush()
        return membership

    async def for_user(self, user_id: uuid.UUID) -> list[Membership]:
        """The teams a user belongs to; scoped by the user, who may see their own."""
        result = await self.session.execute(
            select(Membership).where(col(Membership.user_id) == user_id)
            .order_by(Membership.company_id)
        )
        return list(result.scalars())
