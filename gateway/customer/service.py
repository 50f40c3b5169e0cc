from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from gateway.customer.repository import CustomerRepository
from gateway.errors import BadRequest, NotFound
from gateway.event.payloads import customer_object
from gateway.event.service import EventService, Source
from gateway.kit import validate
from gateway.kit.cursor import Page
from gateway.kit.ids import is_customer_uid, new_customer_uid, new_uuid, parse_uuid
from gateway.kit.service import Service
from gateway.kit.time import Clock
from gateway.models import Customer

DISPLAY_NAME_MAX = 100


def parse_customer_ref(ref: str) -> tuple[uuid.UUID | None, str | None]:
    """A customerId is the customer's UUID or its UID; anything else is malformed."""
    ref = ref.strip()
    if (as_uuid := parse_uuid(ref)) is not None:
        return as_uuid, None
    if is_customer_uid(ref):
        return None, ref
    raise BadRequest("customerId must be a customer UUID or a cus_ UID.")


def _merchant_name(value: str | None) -> str | None:
    """The name a merchant sets is the one the portal shows: the same rules as the
    customer's own (validate.display_text); empty clears it."""
    return (validate.display_text(value, "name", max_length=200) or None) if value else None


class CustomerService(Service[CustomerRepository]):
    repository = CustomerRepository

    async def get(self, company_id: str, ref: str) -> Customer:
        customer_id, uid = parse_customer_ref(ref)
        customer = (
            await self.repo.get_by_id(company_id, customer_id)
            if customer_id is not None
            else await self.repo.get_by_uid(company_id, uid or "")
        )
        if customer is None:
            raise NotFound("No such customer.")
        return customer

    async def create(
        self,
        company_id: str,
        *,
        email: str,
        name: str | None = None,
        client_id: str | None = None,
        metadata: object = None,
    ) -> Customer:
        now = self.clock.now()
        customer = Customer(
            id=new_uuid(),
            uid=new_customer_uid(),
            company_id=company_id,
            email=validate.email(email),
            name=_merchant_name(name),
            client_id=validate.client_id(client_id),
            metadata_=validate.metadata(metadata),
            created_at=now,
            updated_at=now,
        )
        return await self.repo.add(customer)

    async def update(self, company_id: str, ref: str, changes: dict[str, Any],
                     source: Source = Source.merchant_api) -> Customer:
        """`changes` holds only the fields the caller sent; None clears a field."""
        customer = await self.get(company_id, ref)
        previous = {"name": customer.name, "clientId": customer.client_id,
                    "metadata": customer.metadata_, "email": customer.email}
        if "name" in changes:
            customer.name = _merchant_name(changes["name"])
        if "client_id" in changes:
            customer.client_id = validate.client_id(changes["client_id"])
        if "metadata" in changes:
            customer.metadata_ = validate.metadata(changes["metadata"])
        customer.updated_at = self.clock.now()
        await self.session.flush()
        await _emit_updated(self.session, self.clock, customer, previous, source)
        return customer

    async def set_display_name(self, company_id: str, customer: Customer, name: str) -> Customer:
        """The one profile field a customer may change from the portal."""
        if customer.company_id != company_id:
            raise NotFound("No such customer.")
        customer.name = validate.display_text(name, "name", min_length=1, max_length=DISPLAY_NAME_MAX)
        customer.updated_at = self.clock.now()
        await self.session.flush()
        return customer

    async def list(
        self,
        company_id: str,
        *,
        first: int = 20,
        after: str | None = None,
        email: str | None = None,
        client_id: str | None = None,
    ) -> Page[Customer]:
        return await Page.read(first, after, lambda limit, cursor: self.repo.newest_first(
            company_id, limit=limit, after=cursor,
            email=validate.email(email) if email else None, client_id=client_id))


async def _emit_updated(session: AsyncSession, clock: Clock, customer: Customer,
                        previous: dict[str, Any], source: Source) -> None:
    """customer.updated with the previous values of the fields that changed; none, no event."""
    current = customer_object(customer)
    changed = {key: value for key, value in previous.items() if current[key] != value}
    if changed:
        await EventService(session, clock).emit(customer.company_id, "customer.updated", source,
                                                current, changed)
