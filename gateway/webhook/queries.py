from __future__ import annotations

import strawberry

from gateway.customer.types import connection
from gateway.graphql.context import Info
from gateway.webhook.service import WebhookEndpointService
from gateway.webhook.types import (
    WebhookDelivery,
    WebhookDeliveryConnection,
    WebhookDeliveryEdge,
    WebhookEndpoint,
    WebhookEndpointConnection,
    WebhookEndpointEdge,
)

CompanyArg = strawberry.ID | None


@strawberry.type
class WebhookQuery:
    @strawberry.field(description="Your webhook endpoints, newest first. API key, or a "
                      "dashboard session with settings.manage on companyId.")
    async def webhook_endpoints(self, info: Info, first: int = 20, after: str | None = None,
                                company_id: CompanyArg = None) -> WebhookEndpointConnection:
        principal = await info.context.link_principal(company_id)
        page = await endpoint_service(info).list(principal.company_id, first=first, after=after)
        return connection(WebhookEndpointConnection, WebhookEndpointEdge,
                          WebhookEndpoint.from_model, page)

    @strawberry.field(description="An endpoint's delivery attempts, newest first. API key, "
                      "or a dashboard session with settings.manage on companyId.")
    async def webhook_deliveries(self, info: Info, endpoint_id: strawberry.ID, first: int = 20,
                                 after: str | None = None,
                                 company_id: CompanyArg = None) -> WebhookDeliveryConnection:
        principal = await info.context.link_principal(company_id)
        page = await endpoint_service(info).attempts(principal.company_id, endpoint_id,
                                                     first=first, after=after)
        return connection(WebhookDeliveryConnection, WebhookDeliveryEdge,
                          WebhookDelivery.from_model, page)


def endpoint_service(info: Info) -> WebhookEndpointService:
    state = info.context.state
    return WebhookEndpointService(info.context.session, state.clock, state.settings)
