from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from gateway.errors import BadRequest
from gateway.kit import validate
from gateway.kit.amounts import amount_and_currency
from gateway.kit.ids import new_uuid
from gateway.kit.time import Clock
from gateway.models import Subscription
from gateway.models.subscription import INTERVALS, SUBSCRIPTION_STATUSES
from gateway.subscription.repository import SubscriptionRepository

_PERIOD = {
    "day": timedelta(days=1),
    "week": timedelta(weeks=1),
    "month": timedelta(days=30),
    "year": timedelta(days=365),
}


def period_end(start: datetime, interval: str) -> datetime:
    return start + _PERIOD[interval]


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
        metadata: dict[str, Any] | None = None,
        status: str = "active",
    ) -> Subscription:
        meta = validate.metadata(metadata)
        client_id = meta.get("clientId")
        if client_id is not None and not isinstance(client_id, str):
            raise BadRequest("metadata.clientId must be a string.")
        match_email = validate.email(email) if email else None
        match_client = validate.client_id(client_id)
        if match_email is None and match_client is None:
            raise BadRequest("Give an email or metadata.clientId so the subscription reaches its customer.")
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
