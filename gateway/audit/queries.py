from __future__ import annotations

import strawberry

from gateway.audit.service import AuditService, SettingsChangeService
from gateway.audit.types import (
    AuditEvent,
    AuditEventConnection,
    AuditEventEdge,
    SettingsChange,
    SettingsChangeConnection,
    SettingsChangeEdge,
)
from gateway.customer.types import connection
from gateway.graphql.context import Info


@strawberry.type
class AuditQuery:
    @strawberry.field(
        description="Your audit trail: every change customers made from the portal, newest "
        "first. customerId (UUID or UID) keeps one customer's. API key."
    )
    async def audit_events(
        self,
        info: Info,
        first: int = 20,
        after: str | None = None,
        customer_id: strawberry.ID | None = None,
    ) -> AuditEventConnection:
        principal = await info.context.merchant()
        service = AuditService(info.context.session, info.context.state.clock)
        page = await service.list(
            principal.company_id, first=first, after=after, customer_ref=customer_id
        )
        return connection(AuditEventConnection, AuditEventEdge, AuditEvent.from_model, page)

    @strawberry.field(
        description="Your own audit trail: every change to your portal settings and branding "
        "(by API key, dashboard user or the operator's command), newest first. API key, or "
        "a dashboard session with settings.manage on companyId."
    )
    async def settings_changes(
        self,
        info: Info,
        first: int = 20,
        after: str | None = None,
        company_id: strawberry.ID | None = None,
    ) -> SettingsChangeConnection:
        principal = await info.context.link_principal(company_id)
        info.context.reads_only()
        page = await SettingsChangeService(info.context.session, info.context.state.clock).list(
            principal.company_id, first=first, after=after)
        return connection(SettingsChangeConnection, SettingsChangeEdge, SettingsChange.from_model,
                          page)
