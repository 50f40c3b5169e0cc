from __future__ import annotations

from typing import Annotated, Any

import strawberry

from gateway.audit.service import Actor
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


async def _writer(ctx: Context) -> tuple[PortalAccess, PortalService, Actor]:
    access = await ctx.portal()
    decision = await ctx.state.limiter.portal_write(
        access.company_id, access.customer.uid, access.link.signature
    )
    if decision is not None:
        ctx.response_headers.update(decision.headers())
    state = ctx.state
    actor = Actor(access.company_id, access.customer.uid, ctx.client_ip,
                  ctx.request.headers.get("user-agent"))
    return access, PortalService(ctx.session, state.clock, state.store, state.keys), actor


def _subscription_action(action: Action, description: str) -> Any:
    async def resolve(
        info: Info, subscription_id: strawberry.ID, idempotency_key: IdempotencyKey = None
    ) -> BillingSubscription:
        access, service, actor = await _writer(info.context)
        result = await service.change_subscription(
            access, action, subscription_id, actor, idempotency_key
        )
        return BillingSubscription.from_snapshot(result)

    return strawberry.mutation(resolver=resolve, description=f"{description} Portal link.")


@strawberry.type
class PortalMutation:
    @strawberry.mutation(
        description="Change the signed customer's display name (1-100 characters, trimmed). "
        "Portal link."
    )
    async def update_portal_display_name(self, info: Info, name: str) -> PortalCustomer:
        access, service, actor = await _writer(info.context)
        customer = await service.rename(access, name, actor)
        return PortalCustomer.from_model(customer)

    pause_subscription = _subscription_action(Action.pause, "Pause an active subscription.")
    reactivate_subscription = _subscription_action(
        Action.reactivate, "Reactivate a paused subscription."
    )
    cancel_subscription = _subscription_action(
        Action.cancel, "Cancel a subscription that is not cancelled yet. No resume in v1."
    )
