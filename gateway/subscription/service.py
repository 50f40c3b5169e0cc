from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from gateway.errors import BadRequest, NotFound, SubscriptionStateConflict
from gateway.kit import validate
from gateway.kit.amounts import amount_and_currency
from gateway.kit.ids import new_uuid, parse_uuid
from gateway.kit.match import CustomerMatch, customer_match
from gateway.kit.money import format_amount
from gateway.kit.time import Clock, iso_ms
from gateway.models import Subscription
from gateway.models.subscription import INTERVALS, SUBSCRIPTION_STATUSES
from gateway.subscription.repository import SubscriptionRepository

_PERIOD = {
    "day": timedelta(days=1),
    "week": timedelta(weeks=1),
    "month": timedelta(days=30),
    "year": timedelta(days=365),
}


# The portal lists a customer's plans on one screen.
MAX_LISTED = 100
# Compare-and-set attempts before giving up; a loser re-reads, so one retry settles
# any race between two writers.
_ATTEMPTS = 3


def period_end(start: datetime, interval: str) -> datetime:
    return start + _PERIOD[interval]


class Action(StrEnum):
    pause = "pause"
    reactivate = "reactivate"
    cancel = "cancel"


@dataclass(frozen=True, slots=True)
class _Rule:
    allowed: Callable[[Subscription], bool]
    target: str
    past: str  # for the conflict message: "cannot be paused"


# The state table of the contract; the predicates live on the model.
_RULES: dict[Action, _Rule] = {
    Action.pause: _Rule(Subscription.can_pause, "paused", "paused"),
    Action.reactivate: _Rule(Subscription.can_reactivate, "active", "reactivated"),
    Action.cancel: _Rule(Subscription.can_cancel, "cancelled", "cancelled"),
}


@dataclass(frozen=True, slots=True)
class Transition:
    subscription: Subscription
    before: str


def snapshot(row: Subscription) -> dict[str, Any]:
    """A JSON-able copy of what clients see, kept as an idempotent call's result."""
    return {
        "id": str(row.id),
        "status": row.status,
        "planName": row.plan_name,
        "amount": format_amount(row.amount, row.currency),
        "currency": row.currency,
        "interval": row.interval,
        "currentPeriodEnd": iso_ms(row.current_period_end) if row.current_period_end else None,
    }


def parse_subscription_id(value: str) -> uuid.UUID:
    parsed = parse_uuid(value.strip())
    if parsed is None:
        raise BadRequest("subscriptionId must be a subscription UUID.")
    return parsed


class SubscriptionService:
    def __init__(self, session: AsyncSession, clock: Clock) -> None:
        self.repo = SubscriptionRepository(session)
        self.clock = clock

    async def create(
        self,
        company_id: str,
        *,
        plan_name: str,
        amount: str,
        currency: str,
        interval: str,
        email: str | None = None,
        metadata: object = None,
        status: str = "active",
    ) -> Subscription:
        meta = validate.metadata(metadata)
        client_id = meta.get("clientId")
        if client_id is not None and not isinstance(client_id, str):
            raise BadRequest("metadata.clientId must be a string.")
        match_email, match_client = customer_match(email, client_id, client_field="metadata.clientId",
                                                   record="subscription")
        value, code = amount_and_currency(amount, currency)
        now = self.clock.now()
        subscription = Subscription(
            id=new_uuid(),
            company_id=company_id,
            email=match_email,
            client_id=match_client,
            metadata_=meta,
            plan_name=validate.text(plan_name, "planName", min_length=1, max_length=200) or "",
            amount=value,
            currency=code,
            interval=validate.choice(interval, "interval", INTERVALS),
            status=validate.choice(status, "status", SUBSCRIPTION_STATUSES),
            current_period_end=period_end(now, interval),
            created_at=now,
            updated_at=now,
        )
        return await self.repo.add(subscription)

    async def apply(
        self, company_id: str, match: CustomerMatch, subscription_id: str, action: Action
    ) -> Transition:
        """One state change, atomic against concurrent writers: the UPDATE only applies
        if the status is still the one the rule was checked against. The caller commits."""
        sub_id = parse_subscription_id(subscription_id)
        rule = _RULES[action]
        for _ in range(_ATTEMPTS):
            row = await self.repo.get_for_customer(company_id, match, sub_id)
            if row is None:
                raise NotFound("No such subscription.")
            if not rule.allowed(row):
                raise SubscriptionStateConflict(rule.past, row.status)
            before = row.status
            if await self.repo.compare_and_set_status(
                company_id, sub_id, before, rule.target, self.clock.now()
            ):
                return Transition(subscription=row, before=before)
        # Only reachable if other writers won every round; the status last seen is
        # what the caller can act on.
        raise SubscriptionStateConflict(rule.past, before)
