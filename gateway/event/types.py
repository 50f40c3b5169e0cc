from __future__ import annotations

from datetime import datetime

import orjson
import strawberry
from strawberry.scalars import JSON

from gateway.customer.types import PageInfo
from gateway.event.ids import public_event_id
from gateway.models import Event as EventModel


@strawberry.type(description="A change to a customer, a subscription or a portal link; what "
                 "webhooks deliver. Kept 30 days.")
class Event:
    id: strawberry.ID = strawberry.field(description="evt_ followed by a ULID.")
    type: str = strawberry.field(description="e.g. subscription.cancelled (docs/webhooks.md).")
    source: str = strawberry.field(description="portal, merchant_api, dashboard or system.")
    created_at: datetime
    payload: JSON = strawberry.field(description="The event JSON, exactly as webhooks carry it.")

    @classmethod
    def from_model(cls, row: EventModel) -> Event:
        return cls(id=strawberry.ID(public_event_id(row.id)), type=row.type, source=row.source,
                   created_at=row.created_at, payload=orjson.loads(row.body))


@strawberry.type
class EventEdge:
    cursor: str
    node: Event


@strawberry.type
class EventConnection:
    edges: list[EventEdge]
    page_info: PageInfo
