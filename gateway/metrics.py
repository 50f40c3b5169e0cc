"""Prometheus metrics, served at /metrics.

With several uvicorn workers each process counts its own requests; set
PROMETHEUS_MULTIPROC_DIR to an empty, writable directory and every worker writes
its values there (prometheus-client's multiprocess mode), so one scrape of any
worker reports the sum. `gateway serve` empties that directory when it starts.

Label values are bounded: route templates (not paths), GraphQL root field names
that validated against the schema (not client-chosen operation names), status
codes, and fixed outcome names. The GraphQL label is set by the GraphQL guard
(gateway/graphql/guard.py) under OPERATION_SCOPE_KEY."""

from __future__ import annotations

import os
import time
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


async def metrics_endpoint(request: Request) -> Response:
    if os.environ.get(MULTIPROC_ENV):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        body = generate_latest(registry)
    else:
        body = generate_latest(REGISTRY)
    return Response(body, media_type=CONTENT_TYPE_LATEST, headers={"Cache-Control": "no-store"})


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
