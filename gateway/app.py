from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.api_key.service import ApiKeyService
from gateway.body_limit import BodyLimitMiddleware
from gateway.config import Settings, load_settings
from gateway.db import create_engine, create_session_factory, loggable
from gateway.errors import GatewayError
from gateway.graphiql.page import graphiql_routes
from gateway.graphql.errors import as_gateway_error
from gateway.graphql.schema import create_schema
from gateway.graphql.view import GraphQLEndpoint
from gateway.keys import Keys
from gateway.kit.jsonresp import NO_STORE, JSONResponse
from gateway.kit.time import Clock, SystemClock
from gateway.lifecycle import draining, install_drain
from gateway.metrics import RequestMetrics, metrics_endpoint
from gateway.middleware import RequestMiddleware
from gateway.middleware import request_id as scope_request_id
from gateway.rate_limit.limiter import RateLimiter
from gateway.rest import auth as auth_routes
from gateway.rest import dashboard as dashboard_routes
from gateway.rest.partner import create_portal_link
from gateway.signing.link import PortalLinkSigner
from gateway.state import State
from gateway.store import Store, StoreUnavailable, create_store
from gateway.web.page import portal_routes

log = logging.getLogger("gateway")
# Handled where they are raised (no re-raise into the server): errors with a client
# meaning, and the infrastructure failures that map to UNAVAILABLE.
MAPPED_ERRORS: tuple[type[Exception], ...] = (
    GatewayError, StoreUnavailable, DBAPIError, DisconnectionError, PoolTimeout,
    ConnectionError, TimeoutError, OSError,
)


def build_state(settings: Settings, clock: Clock, store: Store | None = None) -> State:
    engine = create_engine(settings)
    session_factory = create_session_factory(engine)
    store = store or create_store(settings.redis_url, clock)
    keys = Keys(settings.redis_key_prefix)
    return State(
        settings=settings,
        clock=clock,
        engine=engine,
        session_factory=session_factory,
        store=store,
        keys=keys,
        signer=PortalLinkSigner(settings.portal_signing_secrets, clock, settings.clock_skew_seconds),
        limiter=RateLimiter(store, keys, settings),
        api_keys=ApiKeyService(session_factory, clock, settings.api_key_pepper,
                               settings.api_key_cache_seconds),
    )


def error_body(error: GatewayError) -> JSONResponse:
    return JSONResponse(
        {"ok": False, "error": {"code": error.code, "message": error.message}},
        status_code=error.status,
        headers={**NO_STORE, **error.headers()},
    )


async def gateway_error_handler(request: Request, exc: Exception) -> Response:
    error = as_gateway_error(exc)
    if error is None:
        request_id = scope_request_id(request.scope)
        log.error("unhandled error on %s %s (request %s)", request.method, request.url.path,
                  request_id, exc_info=loggable(exc))
        return JSONResponse(
            {"ok": False, "error": {"code": "INTERNAL",
                                    "message": f"Internal error. Request id: {request_id}."}},
            status_code=500, headers=NO_STORE)
    return error_body(error)


async def http_error_handler(request: Request, exc: Exception) -> Response:
    if not isinstance(exc, HTTPException):  # registered for HTTPException only
        raise exc
    code = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}.get(exc.status_code, "BAD_REQUEST")
    return JSONResponse({"ok": False, "error": {"code": code, "message": str(exc.detail)}},
                        status_code=exc.status_code, headers=exc.headers)


async def healthz(request: Request) -> Response:
    return JSONResponse({"ok": True}, headers=NO_STORE)


async def readyz(request: Request) -> Response:
    state: State = request.app.state.gateway
    checks: dict[str, bool] = {}
    try:
        async with state.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        checks["database"] = True
    except Exception:  # any failure means not ready
        checks["database"] = False
    checks["redis"] = await state.store.ping()
    if draining.is_set():
        return JSONResponse({"ok": False, "draining": True, "checks": checks}, status_code=503,
                            headers=NO_STORE)
    # Only the database decides readiness: without Redis the gateway degrades (limits
    # fail open, portal mutations answer UNAVAILABLE), and failing every replica's
    # check at once would turn a degraded service into an outage.
    ok = checks["database"]
    return JSONResponse({"ok": ok, "checks": checks}, status_code=200 if ok else 503,
                        headers=NO_STORE)


def create_app(
    settings: Settings | None = None,
    *,
    clock: Clock | None = None,
    store: Store | None = None,
) -> Starlette:
    settings = settings or load_settings()
    clock = clock or SystemClock()
    schema = create_schema(introspection=settings.introspection_enabled,
                           fast_path=settings.graphql_fast_path)
    graphql = GraphQLEndpoint(schema)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        state = build_state(settings, clock, store)
        app.state.gateway = state
        install_drain(settings.shutdown_drain_seconds)
        inline = None
        if settings.webhook_worker_inline:
            from gateway.webhook.worker import DeliveryWorker, InlineWorker

            inline = InlineWorker(DeliveryWorker(state.session_factory, clock, settings))
            inline.start()
        try:
            yield
        finally:
            if inline is not None:
                await inline.close()
            await state.api_keys.drain()
            if store is None:
                await state.store.close()
            await state.engine.dispose()

    routes = [
        Route("/graphql", graphql.handle, methods=["GET", "POST"]),
        Route("/api/partner/v1/makepay/customers/{customer_id}/portal", create_portal_link,
              methods=["POST"]),
        Route("/api/dashboard/companies/{company_id}/makepay/customers/{customer_id}/portal",
              dashboard_routes.create_portal_link, methods=["POST"]),
        Route("/api/auth/login", auth_routes.login, methods=["POST"]),
        Route("/api/auth/logout", auth_routes.logout, methods=["POST"]),
        Route("/api/auth/session", auth_routes.current_session, methods=["GET"]),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        *portal_routes(),
    ]
    if settings.graphiql_enabled:
        routes.extend(graphiql_routes())
    # In production /metrics needs its token; with none configured it is not served.
    if settings.metrics_enabled and (settings.metrics_token or settings.is_development):
        routes.append(Route("/metrics", metrics_endpoint(settings.metrics_token),
                            methods=["GET"]))
    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        exception_handlers={
            **dict.fromkeys(MAPPED_ERRORS, gateway_error_handler),
            HTTPException: http_error_handler,
            Exception: gateway_error_handler,
        },
    )
    # Outermost last: request id and security headers wrap everything, including the
    # metrics, CORS and body-limit answers.
    app.add_middleware(BodyLimitMiddleware, max_body_bytes=settings.max_body_bytes,
                       body_timeout=settings.body_read_timeout_seconds)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["content-type", "x-makepay-portal", "x-request-id"],
            expose_headers=["x-request-id", "retry-after", "ratelimit-limit",
                            "ratelimit-remaining", "ratelimit-reset"],
            allow_credentials=False,
            max_age=600,
        )
    app.add_middleware(RequestMiddleware, metrics=RequestMetrics())
    app.state.settings = settings
    app.state.schema = schema
    return app
