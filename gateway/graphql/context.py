from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

import strawberry
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from starlette.requests import Request

from gateway.api_key.service import ApiKeyPrincipal
from gateway.auth import (
    KEY_ID_HEADER,
    authenticate_api_key,
    authenticate_link_issuer,
    authorize_dashboard,
)
from gateway.dashboard.sessions import SESSION_COOKIE
from gateway.db import autocommit_engine
from gateway.errors import Forbidden, PortalLinkExpired, PortalLinkInvalid, Unauthenticated
from gateway.kit.net import client_ip
from gateway.portal.access import PORTAL_HEADER, PortalAccess, portal_access_service
from gateway.portal_link.usecases import LinkPrincipal
from gateway.rate_limit.limiter import PortalBudget
from gateway.signing.link import SignedLink
from gateway.state import State

# The portal page's re-reads after an action go to the primary for this long
# (Context.reads_own_writes): well past a healthy replica's lag.
FRESH_COOKIE = "makepay_portal_fresh"
FRESH_SECONDS = 10
T = TypeVar("T")


class Context:
    """Built once per request. The database session and the principal are created
    on first use, so a request that needs neither pays for neither."""

    def __init__(self, request: Request, state: State) -> None:
        self.request = request
        self.state = state
        self.response_headers: dict[str, str] = {}
        self.status_code: int | None = None
        self._session: AsyncSession | None = None
        self._read_only = False
        self._merchant: ApiKeyPrincipal | None = None
        self._client_ip: str | None = None
        self._portal: PortalAccess | None = None
        self._prepaid: PortalBudget | None = None
        self._signed: SignedLink | None = None  # the link header, verified by refuse_bad_link

    @property
    def client_ip(self) -> str:
        if self._client_ip is None:
            self._client_ip = client_ip(self.request, self.state.settings.trusted_proxies)
        return self._client_ip

    @property
    def session(self) -> AsyncSession:
        return self.get_session()

    def get_session(self) -> AsyncSession:
        if self._session is None:
            if self._read_only:
                self._session = self.state.session_factory(bind=autocommit_engine(self.state.engine))
            else:
                self._session = self.state.session_factory()
        return self._session

    def reads_only(self) -> None:
        """Query resolvers call this: a query operation writes nothing, so the session
        (if not created yet) runs in autocommit, sparing the BEGIN and ROLLBACK round
        trips. GraphQL runs one operation per request, so no mutation shares it."""
        self._read_only = True

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    @property
    def reads_own_writes(self) -> bool:
        """The portal page re-reading after an action (it holds FRESH_COOKIE): its
        reads go to the primary, which has the write; a replica may lag behind it."""
        return FRESH_COOKIE in self.request.cookies

    def _fresh_cookie(self) -> str:
        """Set by a portal mutation when reads may go to a replica. It carries nothing
        but its presence: a client that sends it on its own only moves its own reads
        to the primary."""
        secure = "; Secure" if self.state.settings.session_cookie_secure_enabled else ""
        return (f"{FRESH_COOKIE}=1; Max-Age={FRESH_SECONDS}; Path=/graphql; HttpOnly; "
                f"SameSite=Strict{secure}")

    async def lagging_read(self, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
        """`work` on an autocommit session of the read replica if one is configured
        (gateway.db.ReadReplica): for merchant list queries, which may lag."""
        async def on(engine: AsyncEngine) -> T:
            async with self.state.session_factory(bind=autocommit_engine(engine)) as session:
                return await work(session)
        return await self.state.reads.read(on)

    async def merchant(self) -> ApiKeyPrincipal:
        if self._merchant is None:
            self._merchant = await authenticate_api_key(self.state, self.request, self.client_ip)
        return self._merchant

    async def portal(self, budget: PortalBudget) -> PortalAccess:
        """The request's signed portal link (header x-makepay-portal), verified once,
        and one request from the link's `budget` for each field that calls this."""
        if self._portal is None:
            if budget is PortalBudget.write and self.state.reads.replica is not None:
                self.response_headers["set-cookie"] = self._fresh_cookie()
            self._portal, decision = await portal_access_service(
                self.state, self.get_session, primary=self.reads_own_writes).verify(
                self.request.headers.get(PORTAL_HEADER), self.client_ip, budget,
                signed=self._signed)
        elif self._prepaid is budget:  # charged by refuse_bad_link, for this field
            self._prepaid = None
            return self._portal
        else:
            link = self._portal.link
            decision = await self.state.limiter.portal(
                budget, link.company_id, link.customer_uid, link.signature)
        if decision is not None:
            self.response_headers.update(decision.headers())
        return self._portal

    async def refuse_bad_link(self) -> None:
        """For a query whose one root field is `portal` (graphql/schema.py): a link that
        fails the signature check, which needs no I/O, is refused before execution
        with the resolver's own refusal (PortalAccessService.refuse_forged: same store
        call, same error, which this raises). A missing link goes through the
        resolver's verification here; a valid or expired one is left to the resolver
        (a valid one's check is reused, not repeated)."""
        query = self.request.headers.get(PORTAL_HEADER)
        if query:
            try:
                # The resolver's verification uses this result, not a second HMAC.
                self._signed = self.state.signer.verify(query)
                return
            except PortalLinkExpired:
                return
            except PortalLinkInvalid as refused:
                # What the resolver's verification does with a forged link, directly.
                await portal_access_service(self.state, self.get_session).refuse_forged(
                    self.client_ip)
                raise refused from None
        self.reads_only()
        await self.portal(PortalBudget.read)
        self._prepaid = PortalBudget.read

    async def link_principal(self, company_id: str | None) -> LinkPrincipal:
        """Who may create or revoke portal links: an API key (whose company is implied;
        a companyId, if sent, must be the key's own), or a dashboard session (cookie
        plus x-csrf-token) with settings.manage on companyId, which it must name."""
        if KEY_ID_HEADER in self.request.headers:
            principal = await self.merchant()
            if company_id is not None and company_id != principal.company_id:
                raise Forbidden("This API key belongs to another company.")
            return LinkPrincipal(principal.company_id, principal.rate_key)
        if SESSION_COOKIE in self.request.cookies:
            return await authorize_dashboard(self.state, self.session, self.request, company_id)
        raise Unauthenticated()

    async def link_issuer(self, company_id: str | None) -> LinkPrincipal:
        """link_principal for createPortalLink: with a key the in-process cache accepts,
        authentication and the link budget cost one store round trip (auth.py)."""
        if self._merchant is None and KEY_ID_HEADER in self.request.headers:
            fast = await authenticate_link_issuer(self.state, self.request, self.client_ip,
                                                  company_id)
            if fast is not None:
                self._merchant, decision = fast
                return LinkPrincipal(self._merchant.company_id, self._merchant.rate_key,
                                     True, decision)
        return await self.link_principal(company_id)


Info = strawberry.Info[Context, None]
