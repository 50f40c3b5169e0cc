"""What a customer may change from the portal: the display name and the state of
their subscriptions. Each change is audited in its own transaction."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from gateway.audit.service import Actor, AuditService, Change
from gateway.company.portal_settings import PortalSettings
from gateway.customer.service import CustomerService
from gateway.event.payloads import customer_object, subscription_object
from gateway.event.service import EventService, Source, subscription_event_type
from gateway.keys import Keys
from gateway.kit.time import Clock
from gateway.models import Company, Customer
from gateway.portal import idempotency
from gateway.portal.access import PortalAccess
from gateway.store import Store
from gateway.subscription.service import (
    Action,
    SubscriptionService,
    clean_cancellation,
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
        await EventService(self.session, self.clock).emit(
            access.company_id, "customer.updated", Source.portal, customer_object(customer),
            {"name": before})
        await self.session.commit()
        return customer

    async def change_subscription(
        self,
        access: PortalAccess,
        action: Action,
        subscription_id: str,
        actor: Actor,
        idempotency_key: str | None = None,
        *,
        reason: str | None = None,
        comment: str | None = None,
    ) -> dict[str, Any]:
        """The subscription as it is after the call, as `subscription.service.snapshot`.
        The merchant's portal settings decide whether pause is offered, when cancel
        takes effect and which reasons are accepted."""
        company = access.company
        if not isinstance(company, Company):  # as in rename: writes get the entity
            raise TypeError("a portal write is verified with the write budget")
        settings = PortalSettings.from_json(company.portal_settings)
        cancellation = clean_cancellation(settings, reason, comment) \
            if action is Action.cancel else None

        async def act() -> dict[str, Any]:
            transition = await SubscriptionService(self.session, self.clock).apply(
                access.company_id, access.match, subscription_id, action, settings, cancellation
            )
            row = transition.subscription
            previous: dict[str, Any] = {"status": transition.before}
            if row.cancel_at_period_end != transition.before_cancel_at_period_end:
                previous["cancelAtPeriodEnd"] = transition.before_cancel_at_period_end
            details = {key: value for key, value in (
                ("cancelAtPeriodEnd", row.cancel_at_period_end or None),
                ("reason", cancellation and cancellation.reason),
                ("comment", cancellation and cancellation.comment)) if value}
            await AuditService(self.session, self.clock).record(
                actor,
                Change(f"subscription.{action}", "subscription", str(row.id),
                       transition.before, row.status, details or None),
                idempotency_key,
            )
            await EventService(self.session, self.clock).emit(
                access.company_id, subscription_event_type(transition.before, row.status),
                Source.portal, subscription_object(row, str(access.customer.id)), previous)
            await self.session.commit()
            return snapshot(row)

        if idempotency_key is None:
            return await act()
        key = idempotency.check_key(idempotency_key)
        arguments: dict[str, Any] = {"subscriptionId": str(parse_subscription_id(subscription_id))}
        if cancellation is not None and (cancellation.reason or cancellation.comment):
            arguments |= {"reason": cancellation.reason, "comment": cancellation.comment}
        print_ = idempotency.fingerprint(f"subscription.{action}", arguments)
        redis_key = self.keys.idempotency(access.company_id, access.customer.uid, key)
        return await idempotency.run_once(self.store, redis_key, print_, act)
