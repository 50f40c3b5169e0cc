"""The one place that turns exceptions into what clients see."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from graphql import GraphQLError
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from gateway.db import loggable
from gateway.errors import GatewayError, Unavailable
from gateway.store import StoreUnavailable

log = logging.getLogger("gateway.errors")


def as_gateway_error(exc: BaseException) -> GatewayError | None:
    """A client-safe error for `exc`, or None when it must be masked."""
    if isinstance(exc, GatewayError):
        return exc
    if isinstance(exc, StoreUnavailable):
        return Unavailable()
    if isinstance(exc, DBAPIError) and (
        exc.connection_invalidated or "connect" in type(exc.orig).__name__.lower()
        or isinstance(exc.orig, OSError)
    ):
        return Unavailable()
    if isinstance(exc, DisconnectionError | PoolTimeout | ConnectionError | asyncio.TimeoutError):
        return Unavailable()
    if isinstance(exc, OSError) and exc.errno is not None:
        return Unavailable()
    return None


def format_graphql_error(error: GraphQLError, request_id: str) -> tuple[dict[str, Any], GatewayError | None]:
    original = error.original_error
    if original is None:
        # Syntax and validation errors: about the document, safe to show.
        body: dict[str, Any] = {"message": error.message,
                                "extensions": {"code": "GRAPHQL_VALIDATION_FAILED"}}
        if error.locations:
            body["locations"] = [{"line": loc.line, "column": loc.column} for loc in error.locations]
        return body, None
    gateway_error = as_gateway_error(original)
    if gateway_error is None:
        if isinstance(original, ValueError | TypeError | GraphQLError) and error.path is None:
            # Variable coercion failures (bad scalar input, a null for a non-null input
            # field) carry no path and a safe message written by graphql-core.
            return {"message": error.message, "extensions": {"code": "BAD_REQUEST"}}, None
        log.error("unhandled error in %s (request %s)", error.path, request_id,
                  exc_info=loggable(original))
        body = {"message": f"Internal error. Request id: {request_id}.",
                "extensions": {"code": "INTERNAL", "requestId": request_id}}
    else:
        body = {"message": gateway_error.message,
                "extensions": {"code": gateway_error.code, **gateway_error.extensions}}
    if error.path is not None:
        body["path"] = error.path
    return body, gateway_error
