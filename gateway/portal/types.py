from __future__ import annotations

from datetime import datetime

import strawberry

from gateway.company.branding import Branding
from gateway.company.types import PortalBranding
from gateway.customer.repository import CustomerRecord
from gateway.customer.types import PageInfo
from gateway.kit.cursor import check_page_size, decode_cursor, encode_cursor
from gateway.kit.time import from_unix
from gateway.models import Customer as CustomerModel
from gateway.payment.types import Payment
from gateway.payment_link.types import PaymentLink
from gateway.portal.access import PortalAccess
from gateway.portal.reads import PortalReads
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
    # The list fields resolve concurrently; their reads are gathered into one
    # statement (portal/repository.py) per tick.
    reads: strawberry.Private[PortalReads]

    @strawberry.field
    def company(self) -> PortalCompany:
        # The row came with the link check: branding costs no statement of its own.
        company = self.access.company
        branding = Branding.from_json(company.branding)
        return PortalCompany(
            id=strawberry.ID(company.id), name=company.name,
            branding=None if branding.is_empty else PortalBranding.from_branding(branding))

    @strawberry.field(description="When the portal link stops working.")
    def expires_at(self) -> datetime:
        return from_unix(self.access.link.expires)

    @strawberry.field
    def customer(self) -> PortalCustomer:
        return PortalCustomer.from_model(self.access.customer)

    @strawberry.field(description="Payments matched by the customer's email or clientId, newest first.")
    async def payments(self, first: int = 20, after: str | None = None) -> PaymentConnection:
        page = PaymentsPage(check_page_size(first) + 1, decode_cursor(after) if after else None)
        rows = await self.reads.load(page)
        items = rows[:first]
        edges = [PaymentEdge(cursor=encode_cursor(row.created_at, row.id),
                             node=Payment.from_row(row)) for row in items]
        return PaymentConnection(
            edges=edges,
            page_info=PageInfo(has_next_page=len(rows) > first,
                               end_cursor=edges[-1].cursor if edges else None),
        )

    @strawberry.field(description="Open payment links: active or unpaid, not expired.")
    async def payment_links(self) -> list[PaymentLink]:
        return [PaymentLink.from_row(row) for row in await self.reads.load(PAYMENT_LINKS)]

    @strawberry.field(description="Subscriptions matched by email or metadata.clientId.")
    async def subscriptions(self) -> list[BillingSubscription]:
        return [BillingSubscription.from_row(row)
                for row in await self.reads.load(SUBSCRIPTIONS)]
