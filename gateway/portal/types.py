from __future__ import annotations

from collections.abc import Callable, Generator
from datetime import datetime
from typing import Any, TypeVar, cast

import strawberry

from gateway.company.branding import Branding
from gateway.company.portal_settings import PortalSettings
from gateway.company.types import PortalBranding, PortalSettingsType
from gateway.customer.repository import CustomerRecord
from gateway.customer.types import PageInfo
from gateway.graphql.scalars import text_id
from gateway.kit.cursor import encode_cursor
from gateway.kit.time import from_unix
from gateway.models import Customer as CustomerModel
from gateway.payment.types import Payment
from gateway.payment_link.types import PaymentLink
from gateway.portal.access import PortalAccess
from gateway.portal.reads import PortalReads, payments_page
from gateway.portal.repository import PAYMENT_LINKS, SUBSCRIPTIONS, PaymentsPage
from gateway.subscription.types import BillingSubscription

T = TypeVar("T")


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
        return cls(id=text_id(row.id), uid=row.uid, name=row.name, email=row.email,
                   client_id=row.client_id, created_at=row.created_at)


@strawberry.type
class PaymentEdge:
    cursor: str
    node: Payment


@strawberry.type
class PaymentConnection:
    edges: list[PaymentEdge]
    page_info: PageInfo


def _payments(self: Portal, first: int = 20, after: str | None = None) -> PaymentConnection:
    page = payments_page(first, after)
    rows = self.reads.found.get(page)
    if rows is None:  # not read ahead: read now (graphql-core awaits the coroutine)
        return cast(PaymentConnection, _payments_later(self.reads, page, first))
    return _connection(rows, first)


async def _payments_later(reads: PortalReads, page: PaymentsPage, first: int) -> PaymentConnection:
    return _connection(await reads.load(page), first)


@strawberry.type(description="Everything the signed link may see: one customer of one company.")
class Portal:
    """Built whole by the `portal` resolver (`Portal.build`): every field but
    `payments` (which takes arguments) is a plain attribute, completed with the rest
    of the selection in one pass (graphql/completion.py) rather than through a
    resolver each."""

    access: strawberry.Private[PortalAccess]
    # The lists the query selects, read by the `portal` resolver before the fields
    # resolve (portal/reads.py).
    reads: strawberry.Private[PortalReads]
    company: PortalCompany
    expires_at: datetime = strawberry.field(description="When the portal link stops working.")
    customer: PortalCustomer
    payments: PaymentConnection = strawberry.field(
        resolver=_payments,
        description="Payments matched by the customer's email or clientId, newest first.")
    payment_links: list[PaymentLink] = strawberry.field(
        description="Open payment links: active or unpaid, not expired.")
    subscriptions: list[BillingSubscription] = strawberry.field(
        description="Subscriptions matched by email or metadata.clientId.")
    settings: PortalSettingsType = strawberry.field(
        description="What the merchant offers here: pause, when cancel takes effect, the "
        "reasons to ask for, the ways back and the page's default language.")

    @classmethod
    def build(cls, access: PortalAccess, reads: PortalReads) -> Portal:
        # The company row came with the link check: branding costs no statement.
        company = access.company
        branding = Branding.from_json(company.branding) if company.branding else None
        return cls(
            access=access, reads=reads,
            company=PortalCompany(
                id=strawberry.ID(company.id), name=company.name,
                branding=None if branding is None or branding.is_empty
                else PortalBranding.from_branding(branding)),
            expires_at=from_unix(access.link.expires),
            customer=PortalCustomer.from_model(access.customer),
            payment_links=_listed(reads, PAYMENT_LINKS, PaymentLink.from_row),
            subscriptions=_listed(reads, SUBSCRIPTIONS, BillingSubscription.from_row),
            settings=PortalSettingsType.from_settings(
                PortalSettings.from_json(company.portal_settings)),
        )


def _listed(reads: PortalReads, need: int, convert: Callable[[Any], T]) -> list[T]:
    """A list read ahead, converted; one the query did not select (so not read) is an
    awaitable that reads it should it be completed after all (graphql-core awaits a
    field's awaitable value), which nothing does unless the lookahead missed it."""
    rows = reads.found.get(need)
    if rows is None:
        return cast(list[T], _ReadLater(reads, need, convert))
    return [convert(row) for row in rows]


class _ReadLater:
    """Awaitable; makes its coroutine only when awaited, so an unselected list leaves
    nothing unawaited behind."""

    def __init__(self, reads: PortalReads, need: int, convert: Callable[[Any], Any]) -> None:
        self.reads, self.need, self.convert = reads, need, convert

    def __await__(self) -> Generator[Any, None, list[Any]]:
        return self._read().__await__()

    async def _read(self) -> list[Any]:
        return [self.convert(row) for row in await self.reads.load(self.need)]


def _connection(rows: list[Any], first: int) -> PaymentConnection:
    edges = [PaymentEdge(cursor=encode_cursor(row.created_at, row.id),
                         node=Payment.from_row(row)) for row in rows[:first]]
    return PaymentConnection(
        edges=edges,
        page_info=PageInfo(has_next_page=len(rows) > first,
                           end_cursor=edges[-1].cursor if edges else None),
    )
