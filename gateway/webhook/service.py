"""Webhook endpoints: where a company's events are delivered, and their secrets."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from gateway.config import Settings
from gateway.errors import BadRequest, NotFound
from gateway.event.ids import parse_event_id
from gateway.event.repository import EventRepository
from gateway.event.service import EventService, Source, check_event_type
from gateway.kit import validate
from gateway.kit.cursor import Cursor, Page
from gateway.kit.ids import new_uuid, parse_uuid
from gateway.kit.service import Service
from gateway.kit.time import Clock
from gateway.models import Event, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from gateway.webhook.repository import WebhookEndpointRepository
from gateway.webhook.secrets import SecretBox, new_secret
from gateway.webhook.urls import check_url

# The old secret keeps signing beside the new one this long after a rotation.
ROTATION_OVERLAP = timedelta(hours=24)
MAX_EVENT_TYPES = 20


@dataclass(frozen=True, slots=True)
class EndpointWithSecret:
    endpoint: WebhookEndpoint
    secret: str  # shown once


def parse_endpoint_id(value: str) -> uuid.UUID:
    parsed = parse_uuid(value.strip())
    if parsed is None:
        raise BadRequest("endpointId must be a webhook endpoint UUID.")
    return parsed


def _event_types(values: list[str] | None) -> list[str]:
    if not values:
        return []
    if len(values) > MAX_EVENT_TYPES:
        raise BadRequest(f"eventTypes holds at most {MAX_EVENT_TYPES} types.")
    return list(dict.fromkeys(check_event_type(value) for value in values))


def _description(value: str | None) -> str | None:
    return validate.text(value, "description", max_length=500) or None


class WebhookEndpointService(Service[WebhookEndpointRepository]):
    repository = WebhookEndpointRepository

    def __init__(self, session: AsyncSession, clock: Clock, settings: Settings) -> None:
        super().__init__(session, clock)
        self.box = SecretBox(settings)
        self.production = not settings.is_development

    async def create(self, company_id: str, url: str, event_types: list[str] | None = None,
                     description: str | None = None) -> EndpointWithSecret:
        now = self.clock.now()
        endpoint_id = new_uuid()
        secret = new_secret()
        endpoint = WebhookEndpoint(
            id=endpoint_id, company_id=company_id, url=check_url(url, production=self.production),
            event_types=_event_types(event_types), description=_description(description),
            secret_encrypted=self.box.seal(endpoint_id, secret), created_at=now, updated_at=now)
        return EndpointWithSecret(await self.repo.add(endpoint), secret)

    async def get(self, company_id: str, endpoint_id: str) -> WebhookEndpoint:
        endpoint = await self.repo.get(company_id, parse_endpoint_id(endpoint_id))
        if endpoint is None:
            raise NotFound("No such webhook endpoint.")
        return endpoint

    async def list(self, company_id: str, *, first: int = 20,
                   after: str | None = None) -> Page[WebhookEndpoint]:
        return await Page.read(first, after, lambda limit, cursor: self.repo.newest_first(
            company_id, limit=limit, after=cursor))

    async def update(self, company_id: str, endpoint_id: str,
                     changes: dict[str, Any]) -> WebhookEndpoint:
        """`changes` holds only the fields sent; enabling clears the disabled reason and
        the failure streak, so a repaired endpoint gets five fresh days."""
        endpoint = await self.get(company_id, endpoint_id)
        if "url" in changes:
            if changes["url"] is None:
                raise BadRequest("url cannot be cleared.")
            endpoint.url = check_url(changes["url"], production=self.production)
        if "event_types" in changes:
            endpoint.event_types = _event_types(changes["event_types"])
        if "description" in changes:
            endpoint.description = _description(changes["description"])
        if "enabled" in changes:
            if changes["enabled"] is None:
                raise BadRequest("enabled must be true or false.")
            endpoint.enabled = bool(changes["enabled"])
            if endpoint.enabled:
                endpoint.disabled_reason = None
                endpoint.failing_since = None
        endpoint.updated_at = self.clock.now()
        await self.session.flush()
        return endpoint

    async def delete(self, company_id: str, endpoint_id: str) -> None:
        if not await self.repo.delete(company_id, parse_endpoint_id(endpoint_id)):
            raise NotFound("No such webhook endpoint.")

    async def rotate(self, company_id: str, endpoint_id: str) -> EndpointWithSecret:
        endpoint = await self.get(company_id, endpoint_id)
        now = self.clock.now()
        secret = new_secret()
        endpoint.previous_secret_encrypted = endpoint.secret_encrypted
        endpoint.previous_secret_expires_at = now + ROTATION_OVERLAP
        endpoint.secret_encrypted = self.box.seal(endpoint.id, secret)
        endpoint.updated_at = now
        await self.session.flush()
        return EndpointWithSecret(endpoint, secret)

    async def send_test(self, company_id: str, endpoint_id: str, source: Source) -> Event:
        """A webhook.test event for this endpoint alone (not fanned out to the others)."""
        endpoint = await self._enabled(company_id, endpoint_id)
        event = await EventService(self.session, self.clock).emit(
            company_id, "webhook.test", source,
            {"endpointId": str(endpoint.id), "message": "A test event: your endpoint is reached."},
            dispatched=True)
        await self._schedule(endpoint, event.id)
        return event

    async def redeliver(self, company_id: str, event_id: str, endpoint_id: str) -> Event:
        """Delivered again now, whatever happened before: a new attempt, same event id."""
        parsed = parse_event_id(event_id)
        endpoint = await self._enabled(company_id, endpoint_id)
        event = await EventRepository(self.session).get(company_id, parsed)
        if event is None:
            raise NotFound("No such event.")
        await self._schedule(endpoint, event.id)
        return event

    async def _enabled(self, company_id: str, endpoint_id: str) -> WebhookEndpoint:
        endpoint = await self.get(company_id, endpoint_id)
        if not endpoint.enabled:
            raise BadRequest("This webhook endpoint is disabled; enable it first.")
        return endpoint

    async def _schedule(self, endpoint: WebhookEndpoint, event_id: uuid.UUID) -> None:
        now = self.clock.now()
        existing = (await self.session.execute(select(col(WebhookDelivery.id)).where(
            col(WebhookDelivery.event_id) == event_id,
            col(WebhookDelivery.endpoint_id) == endpoint.id))).scalar_one_or_none()
        if existing is None:
            self.session.add(WebhookDelivery(
                id=new_uuid(), company_id=endpoint.company_id, event_id=event_id,
                endpoint_id=endpoint.id, next_attempt_at=now, created_at=now, updated_at=now))
            await self.session.flush()
            return
        await self.session.execute(update(WebhookDelivery).where(
            col(WebhookDelivery.id) == existing).values(
            status="pending", next_attempt_at=now, lease_until=None, lease_token=None,
            updated_at=now))

    async def attempts(self, company_id: str, endpoint_id: str, *, first: int = 20,
                       after: str | None = None) -> Page[WebhookAttempt]:
        async def fetch(limit: int, cursor: Cursor | None
                        ) -> list[WebhookAttempt]:
            endpoint = await self.get(company_id, endpoint_id)
            return await self.repo.list_attempts(company_id, endpoint.id, limit=limit,
                                                 after=cursor)

        return await Page.read(first, after, fetch)
