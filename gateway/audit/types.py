from __future__ import annotations

from datetime import datetime
from typing import Any, cast

import strawberry
from strawberry.scalars import JSON

from gateway.customer.types import PageInfo
from gateway.models import AuditEvent as AuditEventModel


@strawberry.type(description="A change a customer made from the portal, as the gateway recorded it.")
class AuditEvent:
    id: strawberry.ID = strawberry.field(description="The event's UUID.")
    customer_uid: str = strawberry.field(description="The UID of the customer who acted.")
    action: str = strawberry.field(
        description="What was done: customer.rename, subscription.pause, "
        "subscription.reactivate or subscription.cancel."
    )
    subject_type: str = strawberry.field(description="The kind of thing changed: customer or subscription.")
    subject_id: str = strawberry.field(description="The UUID of the thing changed.")
    state_before: str | None = strawberry.field(
        description="The changed value before: a status, or the display name."
    )
    state_after: str | None = strawberry.field(description="The changed value after.")
    client_ip: str | None = strawberry.field(description="The client IP the request came from.")
    user_agent: str | None = strawberry.field(description="The browser's User-Agent header.")
    idempotency_key: str | None = strawberry.field(
        description="The idempotency key the portal sent with the change, if any."
    )
    details: JSON | None = strawberry.field(
        description="What else the change carried: for subscription.cancel, the reason and "
        "comment the customer gave, and cancelAtPeriodEnd when it ends at the period end.")
    created_at: datetime = strawberry.field(description="When the change was made.")

    @classmethod
    def from_model(cls, row: AuditEventModel) -> AuditEvent:
        return cls(
            id=strawberry.ID(str(row.id)), customer_uid=row.customer_uid, action=row.action,
            subject_type=row.subject_type, subject_id=row.subject_id,
            state_before=row.state_before, state_after=row.state_after,
            client_ip=row.client_ip, user_agent=row.user_agent,
            idempotency_key=row.idempotency_key, details=cast(Any, row.details),
            created_at=row.created_at,
        )


@strawberry.type
class AuditEventEdge:
    cursor: str
    node: AuditEvent


@strawberry.type
class AuditEventConnection:
    edges: list[AuditEventEdge]
    page_info: PageInfo
