from __future__ import annotations

import strawberry

from gateway.graphql.context import Info
from gateway.subscription.service import SubscriptionService
from gateway.subscription.types import BillingSubscription, CreateSubscriptionInput


@strawberry.type
class SubscriptionMutation:
    @strawberry.mutation(description="Create a subscription. API key.")
    async def create_subscription(
        self, info: Info, input: CreateSubscriptionInput
    ) -> BillingSubscription:
        principal = await info.context.merchant()
        session = info.context.session
        row = await SubscriptionService(session, info.context.state.clock).create(
            principal.company_id,
            plan_name=input.plan_name,
            amount=input.amount,
            currency=input.currency,
            interval=input.interval,
            email=input.email,
            metadata=input.metadata,
            status=input.status,
        )
        await session.commit()
        return BillingSubscription.from_model(row)
