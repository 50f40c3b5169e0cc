from __future__ import annotations

from starlette.requests import HTTPConnection

from gateway.api_key.service import ApiKeyPrincipal
from gateway.errors import Unauthenticated
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
