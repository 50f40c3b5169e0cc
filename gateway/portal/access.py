"""Who a portal request speaks for: the signed link in the `x-makepay-portal` header.

Order matters. The HMAC and expiry are checked first (no I/O); a bad link is
counted against the IP's failure budget, and an IP past that budget gets 429
whatever it sent; then revocation; only then is any customer data read."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from gateway.customer.repository import CustomerRepository
from gateway.errors import PortalLinkExpired, PortalLinkInvalid
from gateway.keys import Keys
from gateway.kit.match import CustomerMatch
from gateway.kit.time import Clock
from gateway.models import Company, Customer
from gateway.portal_link.repository import PortalRevocationRepository
from gateway.rate_limit.limiter import RateLimiter
from gateway.redis import Store, StoreUnavailable
from gateway.signing.link import LINK_TTL_SECONDS, PortalLinkSigner, SignedLink
from gateway.state import State

log = logging.getLogger("gateway.portal")

PORTAL_HEADER = "x-makepay-portal"
# A cached verification spares the database's revocation lookup. Revocations reach
# Redis at once, but one made while Redis was down exists only in the database, so a
# cached verification older than this is checked against the database again.
RECHECK_SECONDS = 60


@dataclass(frozen=True, slots=True)
class PortalAccess:
    link: SignedLink
    company: Company
    customer: Customer

    @property
    def company_id(self) -> str:
        return self.company.id

    @property
    def match(self) -> CustomerMatch:
        return CustomerMatch(self.customer.email, self.customer.client_id)


@dataclass(slots=True)
class PortalAccessService:
    session: AsyncSession
    clock: Clock
    signer: PortalLinkSigner
    store: Store
    keys: Keys
    limiter: RateLimiter
    skew_seconds: int

    async def verify(self, query: str | None, client_ip: str) -> PortalAccess:
        try:
            link = self.signer.verify(query) if query else None
        except PortalLinkInvalid:
            # A forged or malformed link is known without I/O; one store call counts
            # the failure and says whether the IP was already past its budget, in which
            # case it gets the 429 the budget check would have given (the answer never
            # depends on the link). An invalid-link flood costs one round trip each.
            await self.limiter.record_auth_failure_or_refuse(client_ip)
            raise
        except PortalLinkExpired:
            await self.limiter.ensure_not_blocked(client_ip)
            raise
        await self.limiter.ensure_not_blocked(client_ip)
        if link is None:
            raise PortalLinkInvalid("Open the billing portal from the merchant's site.")
        await self._ensure_not_revoked(link)
        found = await CustomerRepository(self.session).get_with_company(
            link.company_id, None, link.customer_uid
        )
        if found is None:  # a link we signed for a customer since deleted
            raise PortalLinkInvalid()
        customer, company = found
        return PortalAccess(link=link, company=company, customer=customer)

    async def _ensure_not_revoked(self, link: SignedLink) -> None:
        revocation_key = self.keys.revocation(link.company_id, link.customer_uid)
        verified_key = self.keys.verified_link(link.company_id, link.customer_uid, link.signature)
        now = int(self.clock.timestamp())
        try:
            revoked, verified = await self.store.get_many(revocation_key, verified_key)
            store_up = True
        except StoreUnavailable:
            revoked = verified = None
            store_up = False
        if revoked is not None and int(revoked) >= link.issued_at:
            raise _revoked()
        if verified is not None and now - int(verified) < RECHECK_SECONDS:
            return
        cutoff = await PortalRevocationRepository(self.session).revoked_before(
            link.company_id, link.customer_uid
        )
        if cutoff is not None and cutoff >= link.issued_at:
            if store_up:
                # Redis lost this revocation (made while it was down): put it back.
                ttl = cutoff + LINK_TTL_SECONDS + self.skew_seconds - now
                await self._cache(revocation_key, cutoff, ttl)
            raise _revoked()
        if store_up:
            await self._cache(verified_key, now, link.expires - now)

    async def _cache(self, key: str, value: int, ttl: int) -> None:
        try:
            await self.store.set(key, str(value), ttl)
        except StoreUnavailable:
            log.warning("portal verification cache not written: store unavailable")


def _revoked() -> PortalLinkInvalid:
    return PortalLinkInvalid(
        "This portal link was revoked. Open billing again from the merchant's site."
    )


def portal_access_service(state: State, session: AsyncSession) -> PortalAccessService:
    return PortalAccessService(session, state.clock, state.signer, state.store, state.keys,
                               state.limiter, state.settings.clock_skew_seconds)
