from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TypeVar

import strawberry

from gateway.customer.types import PageInfo
from gateway.graphql.context import Info
from gateway.kit.time import from_unix
from gateway.models import Customer as CustomerModel
from gateway.payment.service import PaymentService
from gateway.payment.types import Payment
from gateway.payment_link.service import PaymentLinkService
from gateway.payment_link.types import PaymentLink
from gateway.portal.access import PortalAccess
from gateway.subscription.service import SubscriptionService
from gateway.subscription.types import BillingSubscription

T = TypeVar("T")


@strawberry.type(description="The merchant whose portal this is.")
class PortalCompany:
    id: strawberry.ID
    name: str


@strawberry.type(description="The signed customer, as the portal shows them.")
class PortalCustomer:
    id: strawberry.ID = strawberry.field(description="The customer's UUID.")
    uid: str
    name: str | None = strawberry.field(description="Display name; the customer may change it.")
    email: str
    client_id: str | None
    created_at: datetime

    @classmethod
    def from_model(cls, row: CustomerModel) -> PortalCustomer:
        return cls(id=strawberry.ID(str(row.id)), uid=row.uid, name=row.name, email=row.email,
                   client_id=row.client_id, created_at=row.created_at)


@strawberry.type
class PaymentEdge:
    cursor: str
    node: Payment


@strawberry.type
class PaymentConnection:
    edges: list[PaymentEdge]
    page_info: PageInfo


@strawberry.type(description="Everything the signed link may see: one customer of one company.")
class Portal:
    access: strawberry.Private[PortalAccess]
    # Sibling fields resolve concurrently, but they share the request's one database
    # session, which allows one statement at a time.
    lock: strawberry.Private[asyncio.Lock]

    async def _locked(self, read: Callable[[], Awaitable[T]]) -> T:
        async with self.lock:
            return await read()

    @strawberry.field
    def company(self) -> PortalCompany:
        company = self.access.company
        return PortalCompany(id=strawberry.ID(company.id), name=company.name)

    @strawberry.field(description="When the portal link stops working.")
    def expires_at(self) -> datetime:
        return from_unix(self.access.link.expires)

    @strawberry.field
    def customer(self) -> PortalCustomer:
        return PortalCustomer.from_model(self.access.customer)

    @strawberry.field(description="Payments matched by the customer's email or clientId, newest first.")
    async def payments(
        self, info: Info, first: int = 20, after: str | None = None
    ) -> PaymentConnection:
        service = PaymentService(info.context.session, info.context.state.clock)
        page = await self._locked(
            lambda: service.list_for_customer(self.access.company_id, self.access.match,
                                              first=first, after=after))
        return PaymentConnection(
            edges=[PaymentEdge(cursor=cursor, node=Payment.from_model(row))
                   for row, cursor in page.with_cursors()],
            page_info=PageInfo(has_next_page=page.has_next_page, end_cursor=page.end_cursor),
        )

    @strawberry.field(description="Open payment links: active or unpaid, not expired.")
    async def payment_links(self, info: Info) -> list[PaymentLink]:
        state = info.context.state
        service = PaymentLinkService(info.context.session, state.clock,
                                     state.settings.payment_base_url)
        rows = await self._locked(
            lambda: service.open_for_customer(self.access.company_id, self.access.match))
        return [PaymentLink.from_model(row) for row in rows]

    @strawberry.field(description="Subscriptions matched by email or metadata.clientId.")
    async def subscriptions(self, info: Info) -> list[BillingSubscription]:
        service = SubscriptionService(info.context.session, info.context.state.clock)
        rows = await self._locked(
            lambda: service.list_for_customer(self.access.company_id, self.access.match))
        return [BillingSubscription.from_model(row) for row in rows]
