from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from gateway.kit.match import CustomerMatch
from gateway.kit.prebuilt import Prebuilt, match_clause_params, match_params
from gateway.models import Subscription

_statements = Prebuilt()


def _list_for_customer(by_client: bool) -> Any:
    return (
        select(col(Subscription.id), col(Subscription.status), col(Subscription.plan_name),
               col(Subscription.amount), col(Subscription.currency), col(Subscription.interval),
               col(Subscription.current_period_end))
        .where(col(Subscription.company_id) == bindparam("company_id"),
               match_clause_params(Subscription, by_client))
        .order_by(col(Subscription.created_at).desc(), col(Subscription.id).desc())
        .limit(bindparam("limit"))
    )


class SubscriptionRepository:
    """Every query is scoped by company: the company id is always the first argument."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, subscription: Subscription) -> Subscription:
        self.session.add(subscription)
        await self.session.flush()
        return subscription

    async def list_for_customer(
        self, company_id: str, match: CustomerMatch, limit: int
    ) -> list[Any]:
        """Rows with the attributes `service.snapshot` reads."""
        by_client = match.client_id is not None
        statement = _statements.get(by_client, lambda: _list_for_customer(by_client))
        params = {"company_id": company_id, "limit": limit, **match_params(match)}
        return list(await self.session.execute(statement, params))

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
