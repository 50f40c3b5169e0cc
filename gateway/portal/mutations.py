from __future__ import annotations

from typing import Annotated, Any

import strawberry

from gateway.audit.service import Actor
from gateway.graphql.context import Context, Info
from gateway.portal.access import PortalAccess
from gateway.portal.service import PortalService
from gateway.portal.types import PortalCustomer
from gateway.rate_limit.limiter import PortalBudget
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
    access = await ctx.portal(PortalBudget.write)
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

    pause_subscription = _subscription_action(
        Action.pause, "Pause an active subscription (FORBIDDEN when the merchant does not "
        "offer pausing).")
    reactivate_subscription = _subscription_action(
        Action.reactivate, "Reactivate a paused subscription, or keep one set to cancel at "
        "the period end."
    )
    @strawberry.mutation(
        description="Cancel a subscription that is not cancelled yet: at once, or, when the "
        "merchant cancels at the period end, an active or trialing one at currentPeriodEnd "
        "(cancelAtPeriodEnd). No resume in v1. Portal link."
    )
    async def cancel_subscription(
        self, info: Info, subscription_id: strawberry.ID, idempotency_key: IdempotencyKey = None,
        reason: Annotated[str | None, strawberry.argument(
            description="One of the reason codes the merchant offers (portal.settings).")] = None,
        comment: Annotated[str | None, strawberry.argument(
            description="Optional, at most 500 characters; trimmed.")] = None,
    ) -> BillingSubscription:
        access, service, actor = await _writer(info.context)
        result = await service.change_subscription(
            access, Action.cancel, subscription_id, actor, idempotency_key,
            reason=reason, comment=comment)
        return BillingSubscription.from_snapshot(result)
