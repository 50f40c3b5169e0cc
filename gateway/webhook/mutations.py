from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

import strawberry

from gateway.event.types import Event
from gateway.graphql.context import Info
from gateway.principal import LinkPrincipal
from gateway.webhook.queries import CompanyArg, endpoint_service
from gateway.webhook.service import WebhookEndpointService
from gateway.webhook.types import (
    CreateWebhookEndpointInput,
    UpdateWebhookEndpointInput,
    WebhookEndpoint,
    WebhookEndpointSecret,
)

_AUTH = " API key, or a dashboard session with settings.manage on companyId."
T = TypeVar("T")


async def _committed(info: Info, company_id: str | None,
                     work: Callable[[WebhookEndpointService, LinkPrincipal], Awaitable[T]]) -> T:
    """One change to the caller's endpoints (API key, or a session with settings.manage
    on `company_id`), committed before the answer is built."""
    principal = await info.context.link_principal(company_id)
    done = await work(endpoint_service(info), principal)
    await info.context.session.commit()
    return done


@strawberry.type
class WebhookMutation:
    @strawberry.mutation(description="Add an endpoint; its signing secret is returned this "
                         "once." + _AUTH)
    async def create_webhook_endpoint(self, info: Info, input: CreateWebhookEndpointInput,
                                      company_id: CompanyArg = None) -> WebhookEndpointSecret:
        created = await _committed(info, company_id, lambda service, principal: service.create(
            principal.company_id, input.url, input.event_types, input.description))
        return WebhookEndpointSecret(endpoint=WebhookEndpoint.from_model(created.endpoint),
                                     secret=created.secret)

    @strawberry.mutation(description="Change an endpoint's url, eventTypes, description or "
                         "enabled." + _AUTH)
    async def update_webhook_endpoint(self, info: Info, id: strawberry.ID,
                                      input: UpdateWebhookEndpointInput,
                                      company_id: CompanyArg = None) -> WebhookEndpoint:
        changes = {name: value for name, value in (
            ("url", input.url), ("event_types", input.event_types),
            ("description", input.description), ("enabled", input.enabled),
        ) if value is not strawberry.UNSET}
        row = await _committed(info, company_id, lambda service, principal: service.update(
            principal.company_id, id, changes))
        return WebhookEndpoint.from_model(row)

    @strawberry.mutation(description="Delete an endpoint and its delivery log." + _AUTH)
    async def delete_webhook_endpoint(self, info: Info, id: strawberry.ID,
                                      company_id: CompanyArg = None) -> bool:
        await _committed(info, company_id, lambda service, principal: service.delete(
            principal.company_id, id))
        return True

    @strawberry.mutation(description="A new signing secret, returned this once; the old one "
                         "keeps signing beside it for 24 hours." + _AUTH)
    async def rotate_webhook_secret(self, info: Info, id: strawberry.ID,
                                    company_id: CompanyArg = None) -> WebhookEndpointSecret:
        rotated = await _committed(info, company_id, lambda service, principal: service.rotate(
            principal.company_id, id))
        return WebhookEndpointSecret(endpoint=WebhookEndpoint.from_model(rotated.endpoint),
                                     secret=rotated.secret)

    @strawberry.mutation(description="Deliver an event to an endpoint again, now." + _AUTH)
    async def redeliver_event(self, info: Info, event_id: strawberry.ID,
                              endpoint_id: strawberry.ID, company_id: CompanyArg = None) -> Event:
        event = await _committed(info, company_id, lambda service, principal: service.redeliver(
            principal.company_id, event_id, endpoint_id))
        return Event.from_model(event)

    @strawberry.mutation(description="Send a webhook.test event to this endpoint alone." + _AUTH)
    async def send_test_webhook(self, info: Info, endpoint_id: strawberry.ID,
                                company_id: CompanyArg = None) -> Event:
        event = await _committed(info, company_id, lambda service, principal: service.send_test(
            principal.company_id, endpoint_id, principal.source))
        return Event.from_model(event)
