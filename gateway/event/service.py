"""Events: every change to a customer or a subscription, written in the caller's
transaction (so a committed change always has its event and a rolled-back one
never does), kept `EVENT_RETENTION_DAYS` and read newest first."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable
from datetime import timedelta
from enum import StrEnum
from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.errors import BadRequest
from gateway.event.ids import new_event_ids
from gateway.event.repository import EventRepository, EventRow, add_outside_session
from gateway.kit.cursor import Cursor, Page
from gateway.kit.service import Service
from gateway.kit.time import Clock, iso_ms
from gateway.models import Event

EVENT_TYPES = (
    "subscription.paused",
    "subscription.reactivated",
    "subscription.cancelled",
    "subscription.updated",
    "customer.updated",
    "portal_link.created",
    "portal_links.revoked",
    "webhook.test",
)


class Source(StrEnum):
    portal = "portal"
    merchant_api = "merchant_api"
    dashboard = "dashboard"
    system = "system"


def check_event_type(value: str) -> str:
    if value not in EVENT_TYPES:
        raise BadRequest(f"Unknown event type {value[:60]!r}; known types: {', '.join(EVENT_TYPES)}.")
    return value


def subscription_event_type(before: str, after: str) -> str:
    """Named for the status reached; any other change is subscription.updated."""
    if after == before:
        return "subscription.updated"
    if after == "paused":
        return "subscription.paused"
    if after == "cancelled":
        return "subscription.cancelled"
    if after == "active" and before == "paused":
        return "subscription.reactivated"
    return "subscription.updated"


def event_row(
    clock: Clock,
    company_id: str,
    event_type: str,
    source: Source,
    obj: dict[str, Any],
    previous: dict[str, Any] | None = None,
) -> EventRow:
    """A new event's columns: id, company, type, source, body (the webhook's JSON), time."""
    timestamp = clock.timestamp()
    event_id, public_id = new_event_ids(timestamp)
    created_at = clock.now()
    data: dict[str, Any] = {"object": obj}
    if previous is not None:
        data["previous"] = previous
    body = orjson.dumps({
        "id": public_id,
        "type": event_type,
        "companyId": company_id,
        "createdAt": iso_ms(created_at),
        "source": str(source),
        "data": data,
    }).decode()
    return event_id, company_id, event_type, str(source), body, created_at


class EventService(Service[EventRepository]):
    repository = EventRepository

    async def emit(
        self,
        company_id: str,
        event_type: str,
        source: Source,
        obj: dict[str, Any],
        previous: dict[str, Any] | None = None,
        *,
        dispatched: bool = False,
    ) -> Event:
        """Added to the caller's transaction: committed or rolled back with the change.
        `dispatched`: the caller schedules its deliveries itself (no fan-out)."""
        event_id, _, _, _, body, created_at = event_row(self.clock, company_id, event_type,
                                                        source, obj, previous)
        event = Event(id=event_id, company_id=company_id, type=event_type, source=str(source),
                      body=body, created_at=created_at)
        if dispatched:
            event.dispatched_at = event.created_at
        await self.repo.insert(event)
        return event

    async def list(
        self, company_id: str, *, first: int = 20, after: str | None = None,
        event_type: str | None = None,
    ) -> Page[Event]:
        def fetch(limit: int, cursor: Cursor | None) -> Awaitable[list[Event]]:
            if event_type is not None:
                check_event_type(event_type)
            return self.repo.newest_first(company_id, limit=limit, after=cursor, type=event_type)

        return await Page.read(first, after, fetch)

    async def prune(self, retention_days: int) -> int:
        return await self.repo.prune(self.clock.now() - timedelta(days=retention_days))


async def emit_alone(
    engine: AsyncEngine, clock: Clock, company_id: str, event_type: str, source: Source,
    obj: dict[str, Any],
) -> uuid.UUID:
    """For a request whose only write is its event (a portal link issued): committed
    when this returns. The event's id."""
    row = event_row(clock, company_id, event_type, source, obj)
    await add_outside_session(engine, row)
    return row[0]
