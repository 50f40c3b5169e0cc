"""What a customer may change from the portal: the display name and the state of
their subscriptions. Each change is audited in its own transaction."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from gateway.audit.service import Actor, AuditService, Change
from gateway.customer.service import CustomerService
from gateway.keys import Keys
from gateway.kit.time import Clock
from gateway.models import Customer
from gateway.portal import idempotency
from gateway.portal.access import PortalAccess
from gateway.store import Store
from gateway.subscription.service import (
    Action,
    SubscriptionService,
    parse_subscription_id,
    snapshot,
)


class PortalService:
    def __init__(self, session: AsyncSession, clock: Clock, store: Store, keys: Keys) -> None:
        self.session = session
        self.clock = clock
        self.store = store
        self.keys = keys

    async def rename(self, access: PortalAccess, name: str, actor: Actor) -> Customer:
        entity = access.customer
        if not isinstance(entity, Customer):  # reads get plain records, writes the entity
            raise TypeError("a portal write is verified with the write budget")
        before = entity.name
        customer = await CustomerService(self.session, self.clock).set_display_name(
            access.company_id, entity, name
        )
        await AuditService(self.session, self.clock).record(
            actor,
            Change("customer.rename", "customer", str(customer.id), before, customer.name),
        )
        await self.session.commit()
        return customer

    async def change_subscription(
        self,
        access: PortalAccess,
        action: Action,
        subscription_id: str,
        actor: Actor,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        """The subscription as it is after the call, as `subscription.service.snapshot`."""

        async def act() -> dict[str, Any]:
            transition = await SubscriptionService(self.session, self.clock).apply(
                access.company_id, access.match, subscription_id, action
            )
            row = transition.subscription
            await AuditService(self.session, self.clock).record(
                actor,
                Change(f"subscription.{action}", "subscription", str(row.id),
                       transition.before, row.status),
                idempotency_key,
            )
            await self.session.commit()
            return snapshot(row)

        if idempotency_key is None:
            return await act()
        key = idempotency.check_key(idempotency_key)
        print_ = idempotency.fingerprint(
            f"subscription.{action}", {"subscriptionId": str(parse_subscription_id(subscription_id))}
        )
        redis_key = self.keys.idempotency(access.company_id, access.customer.uid, key)
        return await idempotency.run_once(self.store, redis_key, print_, act)
