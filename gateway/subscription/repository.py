from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select, update
from sqlmodel import col

from gateway.kit.match import CustomerMatch
from gateway.kit.repository import CompanyScopedRepository
from gateway.models import Subscription


class SubscriptionRepository(CompanyScopedRepository[Subscription]):
    """Every query is scoped by company: the company id is always the first argument.
    The portal lists a customer's subscriptions through portal/repository.py."""

    model = Subscription

    async def get_for_customer(
        self, company_id: str, match: CustomerMatch, subscription_id: uuid.UUID
    ) -> Subscription | None:
        # populate_existing: a re-read after a lost race must see the winner's status,
        # not the copy already in this session.
        query = (
            select(Subscription)
            .where(col(Subscription.company_id) == company_id, match.clause(Subscription),
                   col(Subscription.id) == subscription_id)
            .execution_options(populate_existing=True)
        )
        return (await self.session.execute(query)).scalar_one_or_none()

    async def compare_and_set_status(
        self, company_id: str, subscription_id: uuid.UUID, expected: str, status: str,
        at: datetime,
    ) -> bool:
        """Moves the row from `expected` to `status`; False when another writer moved it first."""
        result = await self.session.execute(
            update(Subscription)
            .where(col(Subscription.company_id) == company_id,
                   col(Subscription.id) == subscription_id,
                   col(Subscription.status) == expected)
            .values(status=status, updated_at=at)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]
