"""Prometheus metrics, served at /metrics.

Who may read them: with METRICS_TOKEN set, only a request with `Authorization:
Bearer <token>`; without it, anyone outside production and nobody in production
(the route is not served). Request counts by route, rejections and link outcomes
say a lot about a merchant's traffic to whoever can reach the port.

With several uvicorn workers each process counts its own requests; set
PROMETHEUS_MULTIPROC_DIR to an empty, writable directory and every worker writes
its values there (prometheus-client's multiprocess mode), so one scrape of any
worker reports the sum. `gateway serve` empties that directory when it starts.

Label values are bounded: route templates (not paths), GraphQL root field names
that validated against the schema (not client-chosen operation names), status
codes, and fixed outcome names. The GraphQL label is set by the GraphQL guard
(gateway/graphql/guard.py) under OPERATION_SCOPE_KEY."""

from __future__ import annotations

import hashlib
import hmac
import os
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.multiprocess import MultiProcessCollector
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Scope

from gateway.kit.jsonresp import NO_STORE, JSONResponse

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
OPERATION_SCOPE_KEY = "gateway.operation"
LINK_OUTCOMES = frozenset({"valid", "invalid", "expired", "revoked"})

REQUESTS = Counter(
    "gateway_requests_total", "HTTP requests by route, GraphQL operation and status.",
    ["route", "operation", "status"],
)
LATENCY = Histogram(
    "gateway_request_duration_seconds", "HTTP request latency by route and GraphQL operation.",
    ["route", "operation"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
RATE_LIMIT_REJECTIONS = Counter(
    "gateway_rate_limit_rejections_total", "Requests refused by a rate limit, by budget.",
    ["budget"],
)
LINK_VERIFICATIONS = Counter(
    "gateway_portal_link_verifications_total", "Portal link verifications by outcome.",
    ["outcome"],
)


# Labelled children, looked up once: `labels()` takes a lock and builds a key per call.
_verifications: dict[str, Counter] = {}
_rejections: dict[str, Counter] = {}


def record_link_verification(outcome: str) -> None:
    """Called by the portal guard once per verification: valid, invalid, expired or revoked."""
    child = _verifications.get(outcome)
    if child is None:
        child = _verifications[outcome] = LINK_VERIFICATIONS.labels(
            outcome if outcome in LINK_OUTCOMES else "invalid")
    child.inc()


def record_rate_limit_rejection(budget: str) -> None:
    child = _rejections.get(budget)
    if child is None:
        child = _rejections[budget] = RATE_LIMIT_REJECTIONS.labels(budget)
    child.inc()


def clear_multiprocess_dir() -> None:
    """Stale files from a previous run would be summed into the new one's values."""
    directory = os.environ.get(MULTIPROC_ENV)
    if not directory:
        return
    path = Path(directory)
    path.mkdir(parents=True, exist_ok=True)
    for stale in path.glob("*.db"):
        stale.unlink()


def _digest(value: str) -> bytes:
    return hashlib.sha256(value.encode()).digest()


def metrics_endpoint(token: str | None) -> Callable[[Request], Awaitable[Response]]:
    """The /metrics endpoint; with `token`, it answers only requests bearing it. The
    presented and expected tokens are compared as SHA-256 digests in constant time, so
    neither their content nor their length shows in the timing."""
    expected = _digest(token) if token else None

    async def endpoint(request: Request) -> Response:
        if expected is not None:
            scheme, _, presented = request.headers.get("authorization", "").partition(" ")
            if scheme.lower() != "bearer" or not hmac.compare_digest(
                    _digest(presented.strip()), expected):
                return JSONResponse(
                    {"ok": False, "error": {"code": "UNAUTHENTICATED",
                                            "message": "Send the metrics token as a Bearer token."}},
                    status_code=401,
                    headers={**NO_STORE, "WWW-Authenticate": 'Bearer realm="metrics"'})
        if os.environ.get(MULTIPROC_ENV):
            registry = CollectorRegistry()
            MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
            body = generate_latest(registry)
        else:
            body = generate_latest(REGISTRY)
        return Response(body, media_type=CONTENT_TYPE_LATEST, headers=NO_STORE)

    return endpoint


class RequestMetrics:
    """Counts and times every HTTP request (recorded by middleware.RequestMiddleware).
    Kept to two dict lookups and two metric updates per request: it is on every
    request's path."""

    def __init__(self) -> None:
        self._children: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}

    def _child(self, route: str, operation: str, status: int) -> tuple[Counter, Histogram]:
        key = (route, operation, status)
        child = self._children.get(key)
        if child is None:
            child = (REQUESTS.labels(route, operation, str(status)),
                     LATENCY.labels(route, operation))
            self._children[key] = child
        return child

    def record(self, scope: Scope, status: int, started: float) -> None:
        route = scope.get("route")
        template = route.path if isinstance(route, Route) else "unmatched"
        operation = scope.get(OPERATION_SCOPE_KEY, "")
        if not operation and template == "/graphql":
            operation = "invalid"
        counter, histogram = self._child(template, operation, status)
        counter.inc()
        histogram.observe(time.perf_counter() - started)
