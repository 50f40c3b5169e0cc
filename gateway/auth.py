from __future__ import annotations

from starlette.requests import HTTPConnection

from gateway.api_key.service import ApiKeyPrincipal
from gateway.errors import Unauthenticated
from gateway.redis import RateDecision
from gateway.state import State

KEY_ID_HEADER = "x-makecrypto-key-id"
KEY_SECRET_HEADER = "x-makecrypto-key-secret"  # noqa: S105 (a header name)


async def authenticate_api_key(state: State, conn: HTTPConnection, client_ip: str) -> ApiKeyPrincipal:
    """API-key authentication with the per-IP failure budget around it."""
    await state.limiter.ensure_not_blocked(client_ip)
    try:
        return await state.api_keys.authenticate(
            conn.headers.get(KEY_ID_HEADER), conn.headers.get(KEY_SECRET_HEADER)
        )
    except Unauthenticated:
        await state.limiter.record_auth_failure(client_ip)
        raise


async def authenticate_link_issuer(
    state: State, conn: HTTPConnection, client_ip: str, company_id: str | None = None
) -> tuple[ApiKeyPrincipal, RateDecision | None] | None:
    """createPortalLink's fast path: a key the in-process cache accepts costs one store
    round trip, the IP's failure budget and the key's link budget checked together.

    None sends the caller down the full path (authenticate_api_key, then the link
    budget): a cache miss, a wrong secret, or a companyId that is not the key's. So a
    failure is still counted, and an IP past its budget still gets 429 before its key
    is looked up, exactly as before."""
    principal = state.api_keys.authenticate_cached(
        conn.headers.get(KEY_ID_HEADER), conn.headers.get(KEY_SECRET_HEADER)
    )
    if principal is None or (company_id is not None and company_id != principal.company_id):
        return None
    decision = await state.limiter.unblocked_link_creation(
        client_ip, principal.company_id, principal.rate_key
    )
    return principal, decision
