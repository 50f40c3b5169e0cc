from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from gateway.customer.repository import CompanyOrigin, CustomerLookup, CustomerRecord
from gateway.customer.service import CustomerService, parse_customer_ref
from gateway.errors import NotFound
from gateway.keys import Keys
from gateway.kit.ids import new_uuid
from gateway.kit.time import Clock, from_unix
from gateway.models import Company, Customer, PortalRevocation
from gateway.portal_link.repository import PortalRevocationRepository
from gateway.redis import Store, StoreUnavailable
from gateway.signing.link import LINK_TTL_SECONDS, PortalLinkSigner, SignedLink

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

    async def issue(self, company_id: str, customer_ref: str) -> IssuedPortalLink:
        found = await CustomerLookup(self.engine).get_with_company(
            company_id, *parse_customer_ref(customer_ref))
        if found is None:
            raise NotFound("No such customer.")
        customer, company = found
        link = self.signer.issue(company.id, customer.uid)
        url = f"{portal_origin(company, self.base_url)}/billing?{link.query()}"
        return IssuedPortalLink(company.id, customer, url, from_unix(link.expires), link)

    async def revoke(self, company_id: str, customer_ref: str) -> tuple[Customer, int]:
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
