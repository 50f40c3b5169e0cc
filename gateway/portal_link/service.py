from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from gateway.customer.repository import CompanyOrigin, CustomerLookup, CustomerRecord
from gateway.customer.service import CustomerService, parse_customer_ref
from gateway.errors import BadRequest, NotFound
from gateway.event.service import EventService, Source
from gateway.keys import Keys
from gateway.kit.ids import new_uuid
from gateway.kit.time import Clock, from_unix, iso_ms
from gateway.models import Company, Customer, PortalRevocation
from gateway.portal_link.repository import PortalRevocationRepository
from gateway.signing.link import LINK_TTL_SECONDS, PortalLinkSigner, SignedLink
from gateway.store import Store, StoreUnavailable

log = logging.getLogger("gateway.portal_link")


@dataclass(frozen=True, slots=True)
class IssuedPortalLink:
    company_id: str
    customer: CustomerRecord
    url: str
    expires_at: datetime
    link: SignedLink


def portal_origin(company: Company | CompanyOrigin, base_url: str) -> str:
    if company.portal_domain and company.portal_domain_verified:
        return f"https://{company.portal_domain}"
    return base_url


def check_expires_in(expires_in: int, *, allow_expired: bool) -> None:
    if expires_in > LINK_TTL_SECONDS:
        raise BadRequest(f"A portal link expires within {LINK_TTL_SECONDS} seconds (24 hours) at most.",
                         field="expiresIn")
    if expires_in <= 0 and not allow_expired:
        raise BadRequest("An already expired portal link (expiry of 0 seconds or less) is refused "
                         "in production; give a positive number of seconds.", field="expiresIn")
    if expires_in < -LINK_TTL_SECONDS:
        raise BadRequest(f"An expired portal link expired at most {LINK_TTL_SECONDS} seconds ago.",
                         field="expiresIn")


class PortalLinkService:
    """Signs and revokes portal links. Issuing reads through the engine alone, outside
    any session (CustomerLookup); `sessions` gives the request's session to a revocation,
    which writes."""

    def __init__(
        self,
        sessions: Callable[[], AsyncSession],
        clock: Clock,
        signer: PortalLinkSigner,
        store: Store,
        keys: Keys,
        base_url: str,
        skew_seconds: int,
        engine: AsyncEngine,
    ) -> None:
        self.sessions = sessions
        self.engine = engine
        self.clock = clock
        self.signer = signer
        self.store = store
        self.keys = keys
        self.base_url = base_url
        self.skew_seconds = skew_seconds

    async def issue(
        self, company_id: str, customer_ref: str, *, expires_in: int | None = None,
        allow_expired: bool = False,
    ) -> IssuedPortalLink:
        """A link valid for 24 hours, or for `expires_in` seconds (an operator's choice).

        No link lives longer than 24 hours: a link's issue time is taken to be 24 hours
        before its expiry (that is what a revocation compares), so a longer one could
        outlive a revocation made after it was issued. A shorter one only risks being
        revoked too early. An already expired link (`expires_in` <= 0) is for seeing the
        page's expired screen, so only `allow_expired` (outside production) makes one."""
        if expires_in is not None:
            check_expires_in(expires_in, allow_expired=allow_expired)
        found = await CustomerLookup(self.engine).get_with_company(
            company_id, *parse_customer_ref(customer_ref))
        if found is None:
            raise NotFound("No such customer.")
        customer, company = found
        link = self.signer.issue(company.id, customer.uid,
                                 LINK_TTL_SECONDS if expires_in is None else expires_in)
        url = f"{portal_origin(company, self.base_url)}/billing?{link.query()}"
        return IssuedPortalLink(company.id, customer, url, from_unix(link.expires), link)

    async def revoke(self, company_id: str, customer_ref: str,
                     source: Source = Source.merchant_api) -> tuple[Customer, int]:
        """Kill every link issued for the customer up to this whole second.

        The database row is the durable record, committed here before Redis gets a
        copy for fast checks, kept until every covered link has expired."""
        session = self.sessions()
        customer = await CustomerService(session, self.clock).get(company_id, customer_ref)
        cutoff = int(self.clock.timestamp())
        await PortalRevocationRepository(session).add(
            PortalRevocation(
                id=new_uuid(),
                company_id=company_id,
                customer_uid=customer.uid,
                issued_before=cutoff,
                created_at=self.clock.now(),
            )
        )
        await EventService(session, self.clock).emit(
            company_id, "portal_links.revoked", source,
            {"customerId": str(customer.id), "customerUid": customer.uid,
             "revokedBefore": iso_ms(from_unix(cutoff))})
        await session.commit()
        try:
            await self.store.raise_to(
                self.keys.revocation(company_id, customer.uid),
                cutoff,
                LINK_TTL_SECONDS + self.skew_seconds + 60,
            )
        except StoreUnavailable:
            # The database record is enforced when the store cannot be read, and the
            # store keeps the write to replay when Redis answers again.
            log.warning("revocation stored in the database only: store unavailable")
        return customer, cutoff
