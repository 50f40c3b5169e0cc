"""POST /graphql: a thin Starlette endpoint over `schema.execute`.

Strawberry's bundled view does content negotiation, multipart uploads, subscriptions
and more per request; the gateway needs none of that on its hot path, so it parses
the JSON body itself (orjson), executes, and maps errors in one place."""

from __future__ import annotations

from typing import Any

import orjson
import strawberry
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from strawberry.types.graphql import OperationType

from gateway.errors import BadRequest, GatewayError
from gateway.graphiql.page import PAGE_HEADERS as GRAPHIQL_HEADERS
from gateway.graphiql.page import render_graphiql
from gateway.graphql.context import Context
from gateway.graphql.errors import format_graphql_error
from gateway.kit.jsonbody import read_json_body
from gateway.kit.jsonresp import NO_STORE, JSONResponse
from gateway.middleware import request_id as scope_request_id
from gateway.state import State

_QUERY_ONLY = {OperationType.QUERY}
_ALL = {OperationType.QUERY, OperationType.MUTATION}


def error_response(error: GatewayError) -> JSONResponse:
    return JSONResponse(
        {"errors": [{"message": error.message, "extensions": {"code": error.code, **error.extensions}}]},
        status_code=error.status if error.status in (400, 413, 415, 429, 503) else 200,
        headers={**NO_STORE, **error.headers()},
    )


class GraphQLEndpoint:
    def __init__(self, schema: strawberry.Schema) -> None:
        self.schema = schema
        self._ide_html = render_graphiql()

    async def handle(self, request: Request) -> Response:
        state: State = request.app.state.gateway
        if request.method == "GET":
            if state.settings.graphiql_enabled and "text/html" in request.headers.get("accept", ""):
                return HTMLResponse(self._ide_html, headers=GRAPHIQL_HEADERS)
            if "query" not in request.query_params:
                return JSONResponse({"errors": [{"message": "Send a POST with a JSON body.",
                                                 "extensions": {"code": "BAD_REQUEST"}}]},
                                    status_code=405, headers={"Allow": "GET, POST"})
            params = dict(request.query_params)
            try:
                variables = orjson.loads(params["variables"]) if params.get("variables") else None
            except orjson.JSONDecodeError:
                return error_response(BadRequest("variables must be JSON."))
            payload: Any = {"query": params["query"], "variables": variables,
                            "operationName": params.get("operationName")}
            allowed = _QUERY_ONLY
        else:
            content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
            if content_type != "application/json":
                return JSONResponse(
                    {"errors": [{"message": "Content-Type must be application/json.",
                                 "extensions": {"code": "UNSUPPORTED_MEDIA_TYPE"}}]},
                    status_code=415, headers=NO_STORE)
            try:
                payload = await read_json_body(request, state.settings.max_body_bytes)
            except GatewayError as exc:
                return error_response(exc)
            allowed = _ALL
        return await self.execute(request, state, payload, allowed)

    async def execute(
        self, request: Request, state: State, payload: Any, allowed: set[OperationType]
    ) -> Response:
        if isinstance(payload, list):
            return error_response(BadRequest("Batched operations are not supported; send one."))
        if not isinstance(payload, dict) or not isinstance(payload.get("query"), str):
            return error_response(BadRequest("The body must be a JSON object with a query string."))
        variables = payload.get("variables")
        operation_name = payload.get("operationName")
        if variables is not None and not isinstance(variables, dict):
            return error_response(BadRequest("variables must be a JSON object."))
        if operation_name is not None and not isinstance(operation_name, str):
            return error_response(BadRequest("operationName must be a string."))

        request_id = scope_request_id(request.scope)
        context = Context(request, state)
        try:
            result = await self.schema.execute(
                payload["query"],
                variable_values=variables,
                context_value=context,
                operation_name=operation_name,
                allowed_operation_types=allowed,
            )
        except GatewayError as exc:  # the guard refuses a subscription, a mutation over GET
            return error_response(exc)
        except Exception as exc:  # Strawberry raises for a missing query
            return error_response(BadRequest(str(exc) or "The operation cannot be executed."))
        finally:
            await context.close()

        body: dict[str, Any] = {}
        status = 200
        headers = {**NO_STORE, **context.response_headers}
        if result.errors:
            errors = []
            for error in result.errors:
                formatted, gateway_error = format_graphql_error(error, request_id)
                errors.append(formatted)
                if gateway_error is not None and gateway_error.status in (429, 503):
                    status = max(status, gateway_error.status)
                    headers.update(gateway_error.headers())
            body["errors"] = errors
        body["data"] = result.data
        return JSONResponse(body, status_code=status, headers=headers)
