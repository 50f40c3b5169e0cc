"""Who a portal request speaks for: the signed link in the `x-makepay-portal` header.

Order matters. The per-IP failure budget comes first, so an IP past it is refused
whatever it sends; then the HMAC and expiry (no I/O); then revocation and the
link's rate budget; only then is any customer data read.

The store is asked once per request: the HMAC and expiry are computed before it,
since they cost nothing, and its one answer carries the IP budget, the revocation,
the cached verification and the link's budget (portal/gate.py). The IP budget's
verdict is applied first, so the precedence above holds: an IP past its budget gets
429 for a forged, an expired and a genuine link alike, and learns nothing from it."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.company.portal_settings import PortalSettings
from gateway.company.repository import CompanyRepository
from gateway.customer.repository import (
    CustomerLookup,
    CustomerRecord,
    CustomerRepository,
    PortalCompanyRecord,
)
from gateway.db import ReadReplica
from gateway.errors import GatewayError, PortalLinkExpired, PortalLinkInvalid
from gateway.keys import Keys
from gateway.kit.match import CustomerMatch
from gateway.kit.time import Clock
from gateway.metrics import record_link_verification
from gateway.models import Company, Customer
from gateway.portal.gate import PortalGateResult, check_portal_gate, portal_gate
from gateway.portal_link.repository import PortalRevocationRepository
from gateway.rate_limit.limiter import PortalBudget, RateLimiter
from gateway.signing.link import (
    LINK_TTL_SECONDS,
    PortalLinkSigner,
    SignedLink,
    parse_link_query,
)
from gateway.state import State
from gateway.store import RateDecision, Store, StoreUnavailable

log = logging.getLogger("gateway.portal")

PORTAL_HEADER = "x-makepay-portal"
# A cached verification spares the database's revocation lookup. Revocations reach
# Redis at once, but one made while Redis was down exists only in the database, so a
# cached verification older than this is checked against the database again.
#
# Two things shorten that minute. The revoking process keeps the write Redis refused
# and replays it on its first store call that succeeds (RedisStore.raise_to). And a
# process that itself found the store unavailable trusts no cached verification for
# RECHECK_SECONDS after that: the ones written before the outage may predate a
# revocation made during it, and by the end of that minute they are stale anyway.
# (No clocks are compared across processes: both times are this process's.) What is
# left: a process that saw no outage, while the revoking one died or cannot reach
# Redis, trusts a verification for at most RECHECK_SECONDS after it was written.
RECHECK_SECONDS = 60


@dataclass(frozen=True, slots=True)
class PortalAccess:
    """For reads, plain records; for mutations, the session's entities (they change
    the customer)."""

    link: SignedLink
    company: Company | PortalCompanyRecord
    customer: Customer | CustomerRecord

    @property
    def company_id(self) -> str:
        return self.company.id

    @property
    def match(self) -> CustomerMatch:
        return CustomerMatch(self.customer.email, self.customer.client_id)


@dataclass(slots=True)
class PortalAccessService:
    # The request's session, created on first use: a forged or expired link, refused
    # before any statement, should not pay for building one.
    sessions: Callable[[], AsyncSession]
    clock: Clock
    signer: PortalLinkSigner
    store: Store
    keys: Keys
    limiter: RateLimiter
    skew_seconds: int
    reads: ReadReplica
    primary: bool = False  # the caller must see its own writes: no replica

    async def verify(
        self, query: str | None, client_ip: str, budget: PortalBudget,
        signed: SignedLink | None = None,
    ) -> tuple[PortalAccess, RateDecision | None]:
        """The link's access, and the decision of its `budget` (None if not counted:
        the store is down and reads fail open). `signed`: `query` already verified
        by the signer in this request (its HMAC and expiry), not checked again."""
        link = signed if signed is not None else await self._signed_link(query, client_ip)
        try:
            gate: PortalGateResult | None = await check_portal_gate(
                self.store, portal_gate(self.limiter, client_ip, budget, link))
        except StoreUnavailable as exc:
            self.limiter.fail_open(exc)  # the IP budget and reads; writes are refused below
            gate = None
        if gate is not None:
            self.limiter.enforce("auth_failures", gate.ip)
        try:
            await self._ensure_not_revoked(link, gate)
        except PortalLinkInvalid as revoked:
            record_link_verification("revoked")
            raise await self._with_ways_back(revoked, link.company_id) from None
        decision = self.limiter.enforce(budget.metric, gate.rate) if gate and gate.rate else None
        found: tuple[Customer | CustomerRecord, Company | PortalCompanyRecord] | None
        if budget is PortalBudget.read:  # plain records, without the ORM session
            found = await self.reads.read(lambda engine: CustomerLookup(engine).for_portal(
                link.company_id, link.customer_uid), primary=self.primary)
        else:
            found = await CustomerRepository(self.sessions()).get_with_company(
                link.company_id, None, link.customer_uid)
        if found is None:  # a link we signed for a customer since deleted
            record_link_verification("invalid")
            raise PortalLinkInvalid()
        record_link_verification("valid")
        if gate is None and not budget.fails_open:
            raise StoreUnavailable("portal writes need the store")
        customer, company = found
        return PortalAccess(link=link, company=company, customer=customer), decision

    async def _signed_link(self, query: str | None, client_ip: str) -> SignedLink:
        """The HMAC and expiry, computed first (no I/O) but reported only after the IP
        budget: a forged link spends one failure, or gets 429 once the budget is gone
        (one store call does both); a missing or expired one only peeks."""
        if not query:
            record_link_verification("invalid")
            await self.limiter.ensure_not_blocked(client_ip)
            raise PortalLinkInvalid("Open the billing portal from the merchant's site.")
        try:
            return self.signer.verify(query)
        except PortalLinkInvalid:
            await self.refuse_forged(client_ip)
            raise
        except PortalLinkExpired as expired:
            record_link_verification("expired")
            await self.limiter.ensure_not_blocked(client_ip)
            # The signature matched, so the company is the one we signed for.
            company_id = parse_link_query(query).company_id
            raise await self._with_ways_back(expired, company_id) from None

    async def _with_ways_back(self, refusal: GatewayError, company_id: str) -> GatewayError:
        """A link we signed that no longer works (expired or revoked): its error carries
        the merchant's newLinkUrl and returnUrl, when set, so the page can offer a way
        on (contract section 11). Only called once the signature matched: a forged link
        learns nothing about any company. One primary-key read; if the database cannot
        answer, the refusal goes out without them."""
        try:
            company = await CompanyRepository(self.sessions()).get(company_id)
        except (OSError, SQLAlchemyError):
            log.warning("portal settings not read for a refused link: database unavailable")
            return refusal
        if company is not None:
            settings = PortalSettings.from_json(company.portal_settings)
            if settings.new_link_url:
                refusal.extensions["newLinkUrl"] = settings.new_link_url
            if settings.return_url:
                refusal.extensions["returnUrl"] = settings.return_url
        return refusal

    async def refuse_forged(self, client_ip: str) -> None:
        """A link that failed the signature check: counted, and one failure spent from
        the IP's budget (429 instead once it is gone); the caller raises the refusal."""
        record_link_verification("invalid")
        await self.limiter.count_auth_failure(client_ip)

    async def _ensure_not_revoked(self, link: SignedLink, gate: PortalGateResult | None) -> None:
        now = int(self.clock.timestamp())
        revoked, verified = (gate.revoked, gate.verified) if gate else (None, None)
        if revoked is not None and revoked >= link.issued_at:
            raise _revoked()
        outage = self.store.unavailable_at
        if (verified is not None and now - verified < RECHECK_SECONDS
                and (outage is None or now - outage >= RECHECK_SECONDS)):
            return
        cutoff = await PortalRevocationRepository(self.sessions()).revoked_before(
            link.company_id, link.customer_uid
        )
        if cutoff is not None and cutoff >= link.issued_at:
            if gate is not None:
                # Redis lost this revocation (made while it was down): put it back.
                revocation_key = self.keys.revocation(link.company_id, link.customer_uid)
                ttl = cutoff + LINK_TTL_SECONDS + self.skew_seconds - now
                try:
                    await self.store.raise_to(revocation_key, cutoff, ttl)
                except StoreUnavailable:
                    log.warning("revocation not put back: store unavailable")
            raise _revoked()
        if gate is not None:
            verified_key = self.keys.verified_link(link.company_id, link.customer_uid, link.signature)
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


def portal_access_service(state: State, sessions: Callable[[], AsyncSession], *,
                          primary: bool = False) -> PortalAccessService:
    return PortalAccessService(sessions, state.clock, state.signer, state.store, state.keys,
                               state.limiter, state.settings.clock_skew_seconds, state.reads,
                               primary)
