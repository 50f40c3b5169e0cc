from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, false, or_, select, update
from sqlmodel import col

from gateway.kit.match import CustomerMatch
from gateway.kit.prebuilt import Prebuilt
from gateway.kit.repository import CompanyScopedRepository
from gateway.models import Subscription

_statements = Prebuilt()


def _move_status(by_client: bool) -> Any:
    """The customer's subscription from one status to another, if it is in that status
    and not set to end at the period end; the row as it is after, or no row. (An
    UPDATE's parameters may not be named as its columns: hence the b_ names.)"""
    match = col(Subscription.email) == bindparam("b_email")
    if by_client:
        match = or_(match, col(Subscription.client_id) == bindparam("b_client_id"))
    return (
        update(Subscription)
        .where(col(Subscription.company_id) == bindparam("b_company_id"), match,
               col(Subscription.id) == bindparam("b_id"),
               col(Subscription.status) == bindparam("b_before"),
               col(Subscription.cancel_at_period_end) == false())
        .values(status=bindparam("b_after"), updated_at=bindparam("b_at"))
        .returning(Subscription)
        .execution_options(synchronize_session=False)
    )


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

    async def move_status(
        self, company_id: str, match: CustomerMatch, subscription_id: uuid.UUID,
        before: str, after: str, at: datetime,
    ) -> Subscription | None:
        """One statement for the common transition (pause, reactivate a paused one):
        the row, moved from `before` to `after`, or None when it is not the customer's
        or not in `before` without an end set (the caller then reads it to say why).
        Built once per match shape: its cache key is not computed on every call."""
        by_client = match.client_id is not None
        statement = _statements.get(by_client, lambda: _move_status(by_client))
        params = {"b_company_id": company_id, "b_id": subscription_id, "b_before": before,
                  "b_after": after, "b_at": at, "b_email": match.email}
        if by_client:
            params["b_client_id"] = match.client_id
        result = await self.session.execute(statement, params)
        return result.scalar_one_or_none()

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
