from __future__ import annotations

import strawberry

from gateway.customer.types import connection
from gateway.event.service import EventService
from gateway.event.types import Event, EventConnection, EventEdge
from gateway.graphql.context import Info


@strawberry.type
class EventQuery:
    @strawberry.field(
        description="Your events, newest first (kept 30 days); type keeps one type. API key, "
        "or a dashboard session with settings.manage on companyId."
    )
    async def events(
        self,
        info: Info,
        first: int = 20,
        after: str | None = None,
        type: str | None = None,
        company_id: strawberry.ID | None = None,
    ) -> EventConnection:
        principal = await info.context.link_principal(company_id)
        info.context.reads_only()
        page = await EventService(info.context.session, info.context.state.clock).list(
            principal.company_id, first=first, after=after, event_type=type)
        return connection(EventConnection, EventEdge, Event.from_model, page)
