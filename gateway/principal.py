"""Who is calling: decided here, and only here, for the REST routes and the GraphQL
context alike (graphql/context.py's Context is a Caller; a REST route makes one).

A route or resolver states what it needs by the method it awaits, and receives a
typed principal or the contract's refusal (a GatewayError):

- `merchant()`: an API key (x-makecrypto-key-id and -secret) -> ApiKeyPrincipal.
- `team_manager(company_id)`: a dashboard session (cookie plus x-csrf-token) with
  settings.manage on the company -> LinkPrincipal.
- `link_principal(company_id)`: either of those two; a key implies its company ->
  LinkPrincipal. `link_issuer` is the same for createPortalLink, with its fast path
  (`key_only` for the partner route, which takes an API key only).
- `signed_in()`: a live dashboard session, whatever its teams -> DashboardSession.
- `portal(budget)`: the signed portal link (x-makepay-portal) -> PortalAccess.

`settings_actor(principal)` then says who made a settings change, for its record
in the merchant's audit trail (audit/service.py, SettingsChangeService).

An API key and a portal link are verified once per request and kept; a dashboard
user's permission is read from the database every time it is asked for."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from starlette.requests import HTTPConnection

from gateway.api_key.revocation import checkable_key_id
from gateway.api_key.service import ApiKeyPrincipal
from gateway.audit.service import ActorType, SettingsActor
from gateway.dashboard.repository import UserRepository
from gateway.dashboard.service import SETTINGS_MANAGE, TeamService
from gateway.dashboard.sessions import CSRF_HEADER, SESSION_COOKIE, DashboardSession, SessionService
from gateway.db import autocommit_engine
from gateway.errors import (
    BadRequest,
    Forbidden,
    PortalLinkExpired,
    PortalLinkInvalid,
    Unauthenticated,
)
from gateway.event.service import Source
from gateway.kit.crypto import constant_time_equals
from gateway.kit.net import client_ip
from gateway.portal.access import PORTAL_HEADER, PortalAccess, portal_access_service
from gateway.rate_limit.limiter import PortalBudget
from gateway.signing.link import SignedLink
from gateway.state import State
from gateway.store import RateDecision

KEY_ID_HEADER = "x-makecrypto-key-id"
KEY_SECRET_HEADER = "x-makecrypto-key-secret"  # noqa: S105 (a header name)


@dataclass(frozen=True, slots=True)
class LinkPrincipal:
    """Who asks for or revokes portal links, or changes settings: an API key, or a
    dashboard user acting for a company."""

    company_id: str
    rate_key: str
    actor_id: str  # the API key's id, or the dashboard user's UUID
    # Set when authentication already spent the link budget (Caller.link_issuer).
    rate_checked: bool = False
    decision: RateDecision | None = None
    source: Source = Source.merchant_api  # what the events of its changes say

    @classmethod
    def of_key(cls, key: ApiKeyPrincipal, rate_checked: bool = False,
               decision: RateDecision | None = None) -> LinkPrincipal:
        return cls(key.company_id, key.rate_key, key.key_id, rate_checked, decision)


def session_service(state: State) -> SessionService:
    return SessionService.create_for(state.settings, state.store, state.keys, state.clock)


def require_csrf(session: DashboardSession, conn: HTTPConnection) -> None:
    """A cookie rides along with cross-site requests; the token in a header does not."""
    presented = conn.headers.get(CSRF_HEADER, "")
    if not presented or not constant_time_equals(presented, session.csrf_token):
        raise Forbidden("Missing or invalid CSRF token.")


# The portal page's re-reads after an action go to the primary for this long
# (Caller.reads_own_writes): well past a healthy replica's lag.
FRESH_COOKIE = "makepay_portal_fresh"
FRESH_SECONDS = 10
T = TypeVar("T")


class Caller:
    """One request's caller. The database session and each principal are made on
    first use, so a request that needs neither pays for neither; `close` ends the
    session, if one was made."""

    __slots__ = ("_client_ip", "_merchant", "_portal", "_prepaid", "_read_only", "_session",
                 "_signed", "request", "response_headers", "state")

    def __init__(self, request: HTTPConnection, state: State) -> None:
        self.request = request
        self.state = state
        # What the caller's checks add to the response (the rate limits' headers).
        self.response_headers: dict[str, str] = {}
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
        reads go to the primary, which has the write; a replica may lag behind it.
        Without a replica every read is the primary's: the cookies are not parsed."""
        return self.state.reads.replica is not None and FRESH_COOKIE in self.request.cookies

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
        """An API key, with the per-IP failure budget around its check (an IP past the
        budget gets 429 before its key is looked up, and each failure is counted), and
        the key's revocation mark read in the same store call (api_key/revocation.py)."""
        if self._merchant is None:
            state, headers = self.state, self.request.headers
            key_id = headers.get(KEY_ID_HEADER)
            revoked, _ = await state.limiter.api_key_checks(self.client_ip, checkable_key_id(key_id))
            if revoked and key_id:
                state.api_keys.revoked_elsewhere(key_id)
            try:
                self._merchant = await state.api_keys.authenticate(
                    key_id, headers.get(KEY_SECRET_HEADER))
            except Unauthenticated:
                await state.limiter.record_auth_failure(self.client_ip)
                raise
        return self._merchant

    async def signed_in(self) -> DashboardSession:
        """The signed-in user's live session, from the cookie; never from a header or an
        argument, so an API key can never stand in for it."""
        session = await session_service(self.state).load(self.request.cookies.get(SESSION_COOKIE))
        if session is None:
            raise Unauthenticated("Sign in to continue.")
        return session

    async def team_manager(self, company_id: str | None) -> LinkPrincipal:
        """A signed-in user acting for `company_id`: live session, CSRF header, and
        settings.manage on that company's team, read from the database every time."""
        session = await self.signed_in()
        require_csrf(session, self.request)
        if company_id is None:
            raise BadRequest("companyId is required with a dashboard session.")
        await TeamService(self.session, self.state.clock).require_permission(
            company_id, session.user_id, SETTINGS_MANAGE)
        return LinkPrincipal(company_id, session.rate_key, str(session.user_id),
                             source=Source.dashboard)

    async def link_principal(self, company_id: str | None) -> LinkPrincipal:
        """Who may create or revoke portal links: an API key (whose company is implied;
        a companyId, if sent, must be the key's own), or a dashboard session with
        settings.manage on companyId, which it must name."""
        if KEY_ID_HEADER in self.request.headers:
            principal = await self.merchant()
            if company_id is not None and company_id != principal.company_id:
                raise Forbidden("This API key belongs to another company.")
            return LinkPrincipal.of_key(principal)
        if SESSION_COOKIE in self.request.cookies:
            return await self.team_manager(company_id)
        raise Unauthenticated()

    async def settings_actor(self, principal: LinkPrincipal) -> SettingsActor:
        """Who makes a settings change, as the merchant's audit trail keeps it: the key,
        or the dashboard user with their email as it is now; the client IP and
        User-Agent of the request."""
        ip, agent = self.client_ip, self.request.headers.get("user-agent")
        if principal.source is not Source.dashboard:
            return SettingsActor(ActorType.API_KEY, principal.actor_id, None, ip, agent)
        user = await UserRepository(self.session).get(uuid.UUID(principal.actor_id))
        return SettingsActor(ActorType.DASHBOARD_USER, principal.actor_id,
                             user.email if user is not None else None, ip, agent)

    async def link_issuer(self, company_id: str | None = None, *,
                          key_only: bool = False) -> LinkPrincipal:
        """link_principal for createPortalLink (`key_only`: an API key only, as the
        partner route takes; a cookie does not stand in for it). Its fast path: a key
        the in-process cache accepts costs one store round trip, the IP's failure
        budget, the key's revocation mark and its link budget checked together (the
        principal says the budget is spent).

        Anything else takes the full path: a missing key, a cache miss, a wrong secret,
        a companyId that is not the key's, or a key another process revoked. So a
        failure is still counted, and an IP past its budget still gets 429 before its
        key is looked up."""
        if self._merchant is None:
            state, headers = self.state, self.request.headers
            principal = state.api_keys.authenticate_cached(
                headers.get(KEY_ID_HEADER), headers.get(KEY_SECRET_HEADER))
            if principal is not None and (company_id is None or company_id == principal.company_id):
                revoked, decision = await state.limiter.api_key_checks(
                    self.client_ip, principal.key_id, (principal.company_id, principal.rate_key))
                if not revoked:
                    self._merchant = principal
                    return LinkPrincipal.of_key(principal, True, decision)
                state.api_keys.revoked_elsewhere(principal.key_id)
        if key_only:
            return LinkPrincipal.of_key(await self.merchant())
        return await self.link_principal(company_id)

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
