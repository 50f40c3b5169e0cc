from __future__ import annotations

import strawberry

from gateway.event.types import Event
from gateway.graphql.context import Info
from gateway.webhook.queries import CompanyArg, endpoint_service
from gateway.webhook.types import (
    CreateWebhookEndpointInput,
    UpdateWebhookEndpointInput,
    WebhookEndpoint,
    WebhookEndpointSecret,
)

_AUTH = " API key, or a dashboard session with settings.manage on companyId."


@strawberry.type
class WebhookMutation:
    @strawberry.mutation(description="Add an endpoint; its signing secret is returned this "
                         "once." + _AUTH)
    async def create_webhook_endpoint(self, info: Info, input: CreateWebhookEndpointInput,
                                      company_id: CompanyArg = None) -> WebhookEndpointSecret:
        principal = await info.context.link_principal(company_id)
        created = await endpoint_service(info).create(
            principal.company_id, input.url, input.event_types, input.description)
        await info.context.session.commit()
        return WebhookEndpointSecret(endpoint=WebhookEndpoint.from_model(created.endpoint),
                                     secret=created.secret)

    @strawberry.mutation(description="Change an endpoint's url, eventTypes, description or "
                         "enabled." + _AUTH)
    async def update_webhook_endpoint(self, info: Info, id: strawberry.ID,
                                      input: UpdateWebhookEndpointInput,
                                      company_id: CompanyArg = None) -> WebhookEndpoint:
        principal = await info.context.link_principal(company_id)
        changes = {name: value for name, value in (
            ("url", input.url), ("event_types", input.event_types),
            ("description", input.description), ("enabled", input.enabled),
        ) if value is not strawberry.UNSET}
        row = await endpoint_service(info).update(principal.company_id, id, changes)
        await info.context.session.commit()
        return WebhookEndpoint.from_model(row)

    @strawberry.mutation(description="Delete an endpoint and its delivery log." + _AUTH)
    async def delete_webhook_endpoint(self, info: Info, id: strawberry.ID,
                                      company_id: CompanyArg = None) -> bool:
        principal = await info.context.link_principal(company_id)
        await endpoint_service(info).delete(principal.company_id, id)
        await info.context.session.commit()
        return True

    @strawberry.mutation(description="A new signing secret, returned this once; the old one "
                         "keeps signing beside it for 24 hours." + _AUTH)
    async def rotate_webhook_secret(self, info: Info, id: strawberry.ID,
                                    company_id: CompanyArg = None) -> WebhookEndpointSecret:
        principal = await info.context.link_principal(company_id)
        rotated = await endpoint_service(info).rotate(principal.company_id, id)
        await info.context.session.commit()
        return WebhookEndpointSecret(endpoint=WebhookEndpoint.from_model(rotated.endpoint),
                                     secret=rotated.secret)

    @strawberry.mutation(description="Deliver an event to an endpoint again, now." + _AUTH)
    async def redeliver_event(self, info: Info, event_id: strawberry.ID,
                              endpoint_id: strawberry.ID, company_id: CompanyArg = None) -> Event:
        principal = await info.context.link_principal(company_id)
        event = await endpoint_service(info).redeliver(principal.company_id, event_id,
                                                       endpoint_id)
        await info.context.session.commit()
        return Event.from_model(event)

    @strawberry.mutation(description="Send a webhook.test event to this endpoint alone." + _AUTH)
    async def send_test_webhook(self, info: Info, endpoint_id: strawberry.ID,
                                company_id: CompanyArg = None) -> Event:
        principal = await info.context.link_principal(company_id)
        event = await endpoint_service(info).send_test(principal.company_id, endpoint_id,
                                                       principal.source)
        await info.context.session.commit()
        return Event.from_model(event)
