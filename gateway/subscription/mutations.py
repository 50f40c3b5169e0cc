from __future__ import annotations

import strawberry

from gateway.graphql.context import Info, input_fields, merchant_write
from gateway.subscription.service import SubscriptionService
from gateway.subscription.types import BillingSubscription, CreateSubscriptionInput


@strawberry.type
class SubscriptionMutation:
    @strawberry.mutation(description="Create a subscription. API key.")
    async def create_subscription(
        self, info: Info, input: CreateSubscriptionInput
    ) -> BillingSubscription:
        row = await merchant_write(info, lambda session, state, company_id: SubscriptionService(
            session, state.clock).create(company_id, **input_fields(input)))
        return BillingSubscription.from_model(row)
