from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import HTTPConnection

from gateway.api_key.revocation import checkable_key_id
from gateway.api_key.service import ApiKeyPrincipal
from gateway.dashboard.service import SETTINGS_MANAGE, TeamService
from gateway.dashboard.sessions import CSRF_HEADER, SESSION_COOKIE, DashboardSession, SessionService
from gateway.errors import BadRequest, Forbidden, Unauthenticated
from gateway.event.service import Source
from gateway.kit.crypto import constant_time_equals
from gateway.portal_link.usecases import LinkPrincipal
from gateway.state import State
from gateway.store import RateDecision

KEY_ID_HEADER = "x-makecrypto-key-id"
KEY_SECRET_HEADER = "x-makecrypto-key-secret"  # noqa: S105 (a header name)


async def authenticate_api_key(state: State, conn: HTTPConnection, client_ip: str) -> ApiKeyPrincipal:
    """API-key authentication with the per-IP failure budget around it, and the
    key's revocation mark read in the same store call (api_key/revocation.py)."""
    key_id = conn.headers.get(KEY_ID_HEADER)
    revoked, _ = await state.limiter.api_key_checks(client_ip, checkable_key_id(key_id))
    if revoked and key_id:
        state.api_keys.revoked_elsewhere(key_id)
    try:
        return await state.api_keys.authenticate(key_id, conn.headers.get(KEY_SECRET_HEADER))
    except Unauthenticated:
        await state.limiter.record_auth_failure(client_ip)
        raise


def session_service(state: State) -> SessionService:
    return SessionService.create_for(state.settings, state.store, state.keys, state.clock)


async def dashboard_session(state: State, conn: HTTPConnection) -> DashboardSession:
    """The signed-in user's live session, from the cookie; never from a header or an
    argument, so an API key can never stand in for it."""
    session = await session_service(state).load(conn.cookies.get(SESSION_COOKIE))
    if session is None:
        raise Unauthenticated("Sign in to continue.")
    return session


def require_csrf(session: DashboardSession, conn: HTTPConnection) -> None:
    """A cookie rides along with cross-site requests; the token in a header does not."""
    presented = conn.headers.get(CSRF_HEADER, "")
    if not presented or not constant_time_equals(presented, session.csrf_token):
        raise Forbidden("Missing or invalid CSRF token.")


async def authorize_dashboard(
    state: State, db: AsyncSession, conn: HTTPConnection, company_id: str | None
) -> LinkPrincipal:
    """A signed-in user acting for `company_id`: live session, CSRF header, and
    settings.manage on that company's team, read from the database every time."""
    session = await dashboard_session(state, conn)
    require_csrf(session, conn)
    if company_id is None:
        raise BadRequest("companyId is required with a dashboard session.")
    await TeamService(db, state.clock).require_permission(company_id, session.user_id,
                                                          SETTINGS_MANAGE)
    return LinkPrincipal(company_id, session.rate_key, source=Source.dashboard)
async def authenticate_link_issuer(
    state: State, conn: HTTPConnection, client_ip: str, company_id: str | None = None
) -> tuple[ApiKeyPrincipal, RateDecision | None] | None:
    """createPortalLink's fast path: a key the in-process cache accepts costs one store
    round trip, the IP's failure budget, the key's revocation mark and its link
    budget checked together.

    None sends the caller down the full path (authenticate_api_key, then the link
    budget): a cache miss, a wrong secret, a companyId that is not the key's, or a
    key another process revoked. So a failure is still counted, and an IP past its
    budget still gets 429 before its key is looked up, exactly as before."""
    principal = state.api_keys.authenticate_cached(
        conn.headers.get(KEY_ID_HEADER), conn.headers.get(KEY_SECRET_HEADER)
    )
    if principal is None or (company_id is not None and company_id != principal.company_id):
        return None
    revoked, decision = await state.limiter.api_key_checks(
        client_ip, principal.key_id, (principal.company_id, principal.rate_key))
    if revoked:
        state.api_keys.revoked_elsewhere(principal.key_id)
        return None
    return principal, decision
