from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

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

    async def compare_and_set(
        self, company_id: str, subscription_id: uuid.UUID, expected: tuple[str, bool],
        values: dict[str, Any], at: datetime,
    ) -> bool:
        """Sets `values` if the row's (status, cancel_at_period_end) is still `expected`;
        False when another writer moved it first."""
        status, cancel_at_period_end = expected
        result = await self.session.execute(
            update(Subscription)
            .where(col(Subscription.company_id) == company_id,
                   col(Subscription.id) == subscription_id,
                   col(Subscription.status) == status,
                   col(Subscription.cancel_at_period_end) == cancel_at_period_end)
            .values(**values, updated_at=at)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]
