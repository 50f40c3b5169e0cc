from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import delete, select
from sqlmodel import col

from gateway.kit.cursor import newest_first_after
from gateway.kit.repository import CompanyScopedRepository
from gateway.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint


class WebhookEndpointRepository(CompanyScopedRepository[WebhookEndpoint]):
    """Every query takes the company id first: another company's endpoint is not found.
    Pages of endpoints come from CompanyScopedRepository.newest_first."""

    model = WebhookEndpoint

    async def get(self, company_id: str, endpoint_id: uuid.UUID) -> WebhookEndpoint | None:
        query = select(WebhookEndpoint).where(col(WebhookEndpoint.company_id) == company_id,
                                              col(WebhookEndpoint.id) == endpoint_id)
        return (await self.session.execute(query)).scalar_one_or_none()

    async def list_attempts(
        self, company_id: str, endpoint_id: uuid.UUID, *, limit: int,
        after: tuple[datetime, uuid.UUID] | None = None,
    ) -> list[WebhookAttempt]:
        query = select(WebhookAttempt).where(col(WebhookAttempt.company_id) == company_id,
                                             col(WebhookAttempt.endpoint_id) == endpoint_id)
        if after is not None:
            query = query.where(newest_first_after(WebhookAttempt, after))
        query = query.order_by(col(WebhookAttempt.created_at).desc(),
                               col(WebhookAttempt.id).desc()).limit(limit)
        return list((await self.session.execute(query)).scalars())

    async def delete(self, company_id: str, endpoint_id: uuid.UUID) -> bool:
        # Its log and pending deliveries go with it (explicitly: no reliance on cascades).
        for model in (WebhookAttempt, WebhookDelivery):
            await self.session.execute(delete(model).where(
                col(model.company_id) == company_id, col(model.endpoint_id) == endpoint_id))
        result = await self.session.execute(delete(WebhookEndpoint).where(
            col(WebhookEndpoint.company_id) == company_id, col(WebhookEndpoint.id) == endpoint_id))
        return bool(result.rowcount)  # type: ignore[attr-defined]
