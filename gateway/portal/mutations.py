from __future__ import annotations

from typing import Annotated

import strawberry

from gateway.graphql.context import Context, Info
from gateway.portal.access import PortalAccess
from gateway.portal.service import PortalService
from gateway.portal.types import PortalCustomer
from gateway.subscription.service import Action
from gateway.subscription.types import BillingSubscription

IdempotencyKey = Annotated[
    str | None,
    strawberry.argument(
        description="Optional. The same key with the same call within 24 hours returns the "
        "first result without acting again."
    ),
]


async def _writer(ctx: Context) -> tuple[PortalAccess, PortalService]:
    access = await ctx.portal()
    decision = await ctx.state.limiter.portal_write(
        access.company_id, access.customer.uid, access.link.signature
    )
    if decision is not None:
        ctx.response_headers.update(decision.headers())
    state = ctx.state
    return access, PortalService(ctx.session, state.clock, state.store, state.keys)


async def _change(
    info: Info, action: Action, subscription_id: str, idempotency_key: str | None
) -> BillingSubscription:
    ctx = info.context
    access, service = await _writer(ctx)
    result = await service.change_subscription(
        access, action, subscription_id, idempotency_key=idempotency_key,
        client_ip=ctx.client_ip, user_agent=ctx.request.headers.get("user-agent"),
    )
    return BillingSubscription.from_snapshot(result)


@strawberry.type
class PortalMutation:
    @strawberry.mutation(
        description="Change the signed customer's display name (1-100 characters, trimmed). "
        "Portal link."
    )
    async def update_portal_display_name(self, info: Info, name: str) -> PortalCustomer:
        ctx = info.context
        access, service = await _writer(ctx)
        customer = await service.rename(
            access, name, client_ip=ctx.client_ip, user_agent=ctx.request.headers.get("user-agent")
        )
        return PortalCustomer.from_model(customer)

    @strawberry.mutation(description="Pause an active subscription. Portal link.")
    async def pause_subscription(
        self, info: Info, subscription_id: strawberry.ID,
        idempotency_key: IdempotencyKey = None,
    ) -> BillingSubscription:
        return await _change(info, Action.pause, subscription_id, idempotency_key)

    @strawberry.mutation(description="Reactivate a paused subscription. Portal link.")
    async def reactivate_subscription(
        self, info: Info, subscription_id: strawberry.ID,
        idempotency_key: IdempotencyKey = None,
    ) -> BillingSubscription:
        return await _change(info, Action.reactivate, subscription_id, idempotency_key)

    @strawberry.mutation(
        description="Cancel a subscription that is not cancelled yet. No resume in v1. Portal link."
    )
    async def cancel_subscription(
        self, info: Info, subscription_id: strawberry.ID,
        idempotency_key: IdempotencyKey = None,
    ) -> BillingSubscription:
        return await _change(info, Action.cancel, subscription_id, idempotency_key)
