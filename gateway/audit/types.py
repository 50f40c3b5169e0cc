from __future__ import annotations

from datetime import datetime
from typing import Any, cast

import strawberry
from strawberry.scalars import JSON

from gateway.audit.service import ActorType
from gateway.customer.types import PageInfo
from gateway.graphql.scalars import text_id
from gateway.models import AuditEvent as AuditEventModel
from gateway.models import SettingsChange as SettingsChangeModel


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
            id=text_id(row.id), customer_uid=row.customer_uid, action=row.action,
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


SettingsActorType = strawberry.enum(
    ActorType, name="SettingsActorType",
    description="Who changed a setting: API_KEY, DASHBOARD_USER or OPERATOR (the gateway "
    "command, set-portal-settings or set-branding, run by whoever operates the gateway).")


@strawberry.type(description="One field of a settings change, as the API shows it.")
class FieldChange:
    field: str = strawberry.field(description="The field's API name, e.g. returnUrl or "
                                  "accentColor.")
    before: JSON | None = strawberry.field(description="Its value before the change (a "
                                           "default as the API shows it; null: not set).")
    after: JSON | None = strawberry.field(description="Its value after the change.")


@strawberry.type(description="A change to your portal settings or branding, as the gateway "
                 "recorded it in the change's own transaction.")
class SettingsChange:
    id: strawberry.ID = strawberry.field(description="The record's UUID.")
    action: str = strawberry.field(
        description="What was changed: portal_settings.update or branding.update.")
    actor_type: SettingsActorType = strawberry.field(  # type: ignore[valid-type]
        description="Who changed it.")
    actor_id: str | None = strawberry.field(
        description="The API key's id (API_KEY) or the dashboard user's UUID "
        "(DASHBOARD_USER); null for OPERATOR.")
    actor_email: str | None = strawberry.field(
        description="The dashboard user's email at the time of the change.")
    changes: list[FieldChange] = strawberry.field(
        description="Only the fields whose value changed, in the order of the input type.")
    client_ip: str | None = strawberry.field(
        description="The client IP the request came from; null for OPERATOR.")
    user_agent: str | None = strawberry.field(
        description="The request's User-Agent header; null for OPERATOR.")
    created_at: datetime = strawberry.field(description="When the change was made.")

    @classmethod
    def from_model(cls, row: SettingsChangeModel) -> SettingsChange:
        return cls(
            id=text_id(row.id), action=row.action,
            actor_type=ActorType(row.actor_type), actor_id=row.actor_id,
            actor_email=row.actor_email,
            changes=[FieldChange(field=name, before=change["before"], after=change["after"])
                     for name, change in row.changes.items()],
            client_ip=row.client_ip, user_agent=row.user_agent, created_at=row.created_at,
        )


@strawberry.type
class SettingsChangeEdge:
    cursor: str
    node: SettingsChange


@strawberry.type
class SettingsChangeConnection:
    edges: list[SettingsChangeEdge]
    page_info: PageInfo
