from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, cast

import strawberry

from gateway.company.branding import Branding
from gateway.company.types import PortalBranding
from gateway.customer.repository import CustomerRecord
from gateway.customer.types import PageInfo
from gateway.kit.cursor import encode_cursor
from gateway.kit.time import from_unix
from gateway.models import Customer as CustomerModel
from gateway.payment.types import Payment
from gateway.payment_link.types import PaymentLink
from gateway.portal.access import PortalAccess
from gateway.portal.reads import PortalReads, payments_page
from gateway.portal.repository import PAYMENT_LINKS, SUBSCRIPTIONS, PaymentsPage
from gateway.subscription.types import BillingSubscription


@strawberry.type(description="The merchant whose portal this is.")
class PortalCompany:
    id: strawberry.ID
    name: str
    branding: PortalBranding | None = strawberry.field(
        description="The merchant's portal branding; null when they have set none.")


@strawberry.type(description="The signed customer, as the portal shows them.")
class PortalCustomer:
    id: strawberry.ID = strawberry.field(description="The customer's UUID.")
    uid: str
    name: str | None = strawberry.field(description="Display name; the customer may change it.")
    email: str
    client_id: str | None
    created_at: datetime

    @classmethod
    def from_model(cls, row: CustomerModel | CustomerRecord) -> PortalCustomer:
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
    # The lists the query selects, read by the `portal` resolver before these fields
    # resolve (portal/reads.py): the list fields are synchronous when read ahead.
    reads: strawberry.Private[PortalReads]

    @strawberry.field
    def company(self) -> PortalCompany:
        # The row came with the link check: branding costs no statement of its own.
        company = self.access.company
        branding = Branding.from_json(company.branding) if company.branding else None
        return PortalCompany(
            id=strawberry.ID(company.id), name=company.name,
            branding=None if branding is None or branding.is_empty
            else PortalBranding.from_branding(branding))

    @strawberry.field(description="When the portal link stops working.")
    def expires_at(self) -> datetime:
        return from_unix(self.access.link.expires)

    @strawberry.field
    def customer(self) -> PortalCustomer:
        return PortalCustomer.from_model(self.access.customer)

    @strawberry.field(description="Payments matched by the customer's email or clientId, newest first.")
    def payments(self, first: int = 20, after: str | None = None) -> PaymentConnection:
        page = payments_page(first, after)
        rows = self.reads.found.get(page)
        if rows is None:  # not read ahead: read now (graphql-core awaits the coroutine)
            return cast(PaymentConnection, self._payments_later(page, first))
        return _connection(rows, first)

    async def _payments_later(self, page: PaymentsPage, first: int) -> PaymentConnection:
        return _connection(await self.reads.load(page), first)

    @strawberry.field(description="Open payment links: active or unpaid, not expired.")
    def payment_links(self) -> list[PaymentLink]:
        return cast(list[PaymentLink], self._list(PAYMENT_LINKS, PaymentLink.from_row))

    @strawberry.field(description="Subscriptions matched by email or metadata.clientId.")
    def subscriptions(self) -> list[BillingSubscription]:
        return cast(list[BillingSubscription],
                    self._list(SUBSCRIPTIONS, BillingSubscription.from_row))

    def _list(self, need: int, convert: Callable[[Any], Any]) -> list[Any] | Awaitable[list[Any]]:
        rows = self.reads.found.get(need)
        if rows is None:
            return self._list_later(need, convert)
        return [convert(row) for row in rows]

    async def _list_later(self, need: int, convert: Callable[[Any], Any]) -> list[Any]:
        return [convert(row) for row in await self.reads.load(need)]


def _connection(rows: list[Any], first: int) -> PaymentConnection:
    edges = [PaymentEdge(cursor=encode_cursor(row.created_at, row.id),
                         node=Payment.from_row(row)) for row in rows[:first]]
    return PaymentConnection(
        edges=edges,
        page_info=PageInfo(has_next_page=len(rows) > first,
                           end_cursor=edges[-1].cursor if edges else None),
    )
