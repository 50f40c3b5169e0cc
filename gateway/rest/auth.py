"""Dashboard sign-in: POST /api/auth/login, POST /api/auth/logout, GET /api/auth/session."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from gateway.dashboard.passwords import Passwords
from gateway.dashboard.repository import MembershipRepository, UserRepository
from gateway.dashboard.service import SignInService
from gateway.dashboard.sessions import SESSION_COOKIE
from gateway.errors import BadRequest, Unauthenticated, UnsupportedMediaType
from gateway.kit.jsonbody import read_json_body
from gateway.kit.jsonresp import NO_STORE, JSONResponse
from gateway.kit.net import client_ip
from gateway.principal import Caller, require_csrf, session_service
from gateway.state import State

# An email and a password fit in far less; a larger body is refused before parsing.
LOGIN_BODY_LIMIT = 4 * 1024


def _set_session_cookie(response: Response, state: State, value: str, max_age: int) -> None:
    response.set_cookie(
        SESSION_COOKIE, value, max_age=max_age, path="/", httponly=True, samesite="lax",
        secure=state.settings.session_cookie_secure_enabled,
    )


async def _credentials(request: Request) -> tuple[str, str]:
    # JSON only: a cross-site HTML form cannot send application/json, so no other
    # site can sign a visitor in to an account of its choosing (login CSRF).
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/json":
        raise UnsupportedMediaType()
    body: Any = await read_json_body(request, LOGIN_BODY_LIMIT)
    if not isinstance(body, dict):
        raise BadRequest('Send a JSON object {"email": ..., "password": ...}.')
    email, password = body.get("email"), body.get("password")
    if not isinstance(email, str) or not isinstance(password, str) or not email or not password:
        raise BadRequest('Send a JSON object {"email": ..., "password": ...}.')
    return email, password


async def login(request: Request) -> Response:
    state: State = request.app.state.gateway
    email, password = await _credentials(request)
    async with state.session_factory() as db:
        signed_in = await SignInService(
            db, Passwords.from_settings(state.settings), session_service(state), state.limiter,
            state.clock,
        ).sign_in(email, password, client_ip(request, state.settings.trusted_proxies),
                  request.cookies.get(SESSION_COOKIE))
    session = signed_in.session
    response = JSONResponse({"ok": True, "csrfToken": session.csrf_token}, headers=NO_STORE)
    _set_session_cookie(response, state, session.session_id,
                        state.settings.session_absolute_hours * 3600)
    return response


async def logout(request: Request) -> Response:
    """Ends the session (CSRF header required while it is live) and clears the cookie.
    Without a live session there is nothing to end: still 200, cookie cleared."""
    state: State = request.app.state.gateway
    sessions = session_service(state)
    session = await sessions.load(request.cookies.get(SESSION_COOKIE))
    if session is not None:
        require_csrf(session, request)
        await sessions.end(session.session_id)
    response = JSONResponse({"ok": True}, headers=NO_STORE)
    _set_session_cookie(response, state, "", 0)
    return response


async def current_session(request: Request) -> Response:
    """Who is signed in, their teams, and the CSRF token (for a page reloaded after
    sign-in: the cookie is HttpOnly, so scripts cannot read the session itself)."""
    state: State = request.app.state.gateway
    session = await Caller(request, state).signed_in()
    async with state.session_factory() as db:
        user = await UserRepository(db).get(session.user_id)
        if user is None:
            await session_service(state).end(session.session_id)
            raise Unauthenticated("Sign in to continue.")
        memberships = await MembershipRepository(db).for_user(user.id)
    return JSONResponse({
        "ok": True,
        "user": {"id": str(user.id), "email": user.email, "name": user.name},
        "teams": [{"companyId": m.company_id, "permissions": list(m.permissions)}
                  for m in memberships],
        "csrfToken": session.csrf_token,
    }, headers=NO_STORE)
