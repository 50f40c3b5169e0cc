from __future__ import annotations

from datetime import datetime

import strawberry

from gateway.customer.types import PageInfo
from gateway.event.ids import public_event_id
from gateway.graphql.scalars import text_id
from gateway.models import WebhookAttempt as WebhookAttemptModel
from gateway.models import WebhookEndpoint as WebhookEndpointModel


@strawberry.type(description="Where your events are delivered, signed (docs/webhooks.md).")
class WebhookEndpoint:
    id: strawberry.ID = strawberry.field(description="The endpoint's UUID.")
    url: str
    event_types: list[str] = strawberry.field(description="The types delivered; empty: all.")
    description: str | None
    enabled: bool
    disabled_reason: str | None = strawberry.field(
        description="Why the gateway disabled it (5 days of failed deliveries), if it did.")
    created_at: datetime

    @classmethod
    def from_model(cls, row: WebhookEndpointModel) -> WebhookEndpoint:
        return cls(id=text_id(row.id), url=row.url, event_types=list(row.event_types),
                   description=row.description, enabled=row.enabled,
                   disabled_reason=row.disabled_reason, created_at=row.created_at)


@strawberry.type(description="An endpoint with its signing secret, shown this once.")
class WebhookEndpointSecret:
    endpoint: WebhookEndpoint
    secret: str = strawberry.field(description="whsec_ followed by base64 of 32 bytes.")


@strawberry.type(description="One delivery attempt of an event to an endpoint.")
class WebhookDelivery:
    id: strawberry.ID
    event_id: strawberry.ID = strawberry.field(description="The event delivered (evt_...).")
    number: int = strawberry.field(description="1 for the first attempt of this event here.")
    status_code: int | None = strawberry.field(description="The HTTP status; null if none came.")
    duration_ms: int
    error: str | None = strawberry.field(description="Why the attempt failed, if it did.")
    response_body: str | None = strawberry.field(description="The first 4 KB of the answer.")
    next_attempt_at: datetime | None = strawberry.field(
        description="When the next retry is due; null once delivered or given up.")
    created_at: datetime

    @classmethod
    def from_model(cls, row: WebhookAttemptModel) -> WebhookDelivery:
        return cls(id=text_id(row.id),
                   event_id=strawberry.ID(public_event_id(row.event_id)), number=row.number,
                   status_code=row.status_code, duration_ms=row.duration_ms, error=row.error,
                   response_body=row.response_body, next_attempt_at=row.next_attempt_at,
                   created_at=row.created_at)


@strawberry.type
class WebhookEndpointEdge:
    cursor: str
    node: WebhookEndpoint


@strawberry.type
class WebhookEndpointConnection:
    edges: list[WebhookEndpointEdge]
    page_info: PageInfo


@strawberry.type
class WebhookDeliveryEdge:
    cursor: str
    node: WebhookDelivery


@strawberry.type
class WebhookDeliveryConnection:
    edges: list[WebhookDeliveryEdge]
    page_info: PageInfo


@strawberry.input(description="A new endpoint. No eventTypes (or []) means every type.")
class CreateWebhookEndpointInput:
    url: str
    event_types: list[str] | None = None
    description: str | None = None


@strawberry.input(description="Fields to change; omitted fields stay.")
class UpdateWebhookEndpointInput:
    url: str | None = strawberry.UNSET
    event_types: list[str] | None = strawberry.UNSET
    description: str | None = strawberry.UNSET
    enabled: bool | None = strawberry.UNSET
