"""HTTP rules on every route: body size, JSON-only bodies, CORS, security headers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from gateway.middleware import SECURITY_HEADERS
from tests.factories import create_api_key, create_company, create_customer
from tests.support import Gateway

pytestmark = pytest.mark.parametrize("backend", [("sqlite", "memory")], indirect=True)
LIMIT = 2048
ORIGIN = "https://shop.example.com"


def partner_route(customer: str) -> str:
    return f"/api/partner/v1/makepay/customers/{customer}/portal"


async def chunks(total: int, size: int = 512) -> AsyncIterator[bytes]:
    sent = 0
    while sent < total:
        yield b" " * min(size, total - sent)
        sent += size


@pytest.fixture
async def small(start_gateway: Callable[..., Any]) -> Gateway:
    gw: Gateway = await start_gateway(max_body_bytes=LIMIT)
    return gw


@pytest.mark.parametrize("path", ["/graphql", partner_route("cus_01hzy4k6p4w9y2x7e2z7n8a2xm")])
async def test_a_body_over_the_limit_is_refused_by_its_declared_length(
    small: Gateway, path: str,
) -> None:
    response = await small.client.post(path, content=b" " * (LIMIT + 1),
                                       headers={"content-type": "application/json"})

    assert response.status_code == 413
    assert "PAYLOAD_TOO_LARGE" in response.text


@pytest.mark.parametrize("path", ["/graphql", partner_route("cus_01hzy4k6p4w9y2x7e2z7n8a2xm")])
async def test_a_chunked_body_is_cut_off_at_the_limit(small: Gateway, path: str) -> None:
    response = await small.client.post(path, content=chunks(LIMIT * 4),
                                       headers={"content-type": "application/json"})

    assert response.status_code == 413
    assert "PAYLOAD_TOO_LARGE" in response.text


async def trickle(first: bytes) -> AsyncIterator[bytes]:
    yield first
    for _ in range(60):  # a byte now and then, for 3 s: ten times the limit below
        await asyncio.sleep(0.05)
        yield b" "


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "chunked"])
@pytest.mark.parametrize("path", ["/graphql", "/api/auth/login"])
async def test_a_body_that_does_not_arrive_in_time_is_refused(
    start_gateway: Callable[..., Any], path: str, declared: bool,
) -> None:
    gw: Gateway = await start_gateway(body_read_timeout_seconds=0.3)
    headers = {"content-type": "application/json"}
    if declared:
        headers["content-length"] = "1000"

    response = await gw.client.post(path, content=trickle(b'{"query": '), headers=headers)

    assert response.status_code == 408
    assert "REQUEST_TIMEOUT" in response.text
    assert response.headers["connection"] == "close"


async def test_a_body_sent_in_pieces_within_the_time_limit_is_read(
    start_gateway: Callable[..., Any],
) -> None:
    gw: Gateway = await start_gateway(body_read_timeout_seconds=2)

    async def body() -> AsyncIterator[bytes]:
        for piece in (b'{"query": ', b'"{ __typename }"', b"}"):
            await asyncio.sleep(0.05)
            yield piece

    response = await gw.client.post("/graphql", content=body(),
                                    headers={"content-type": "application/json"})

    assert response.json() == {"data": {"__typename": "Query"}}


async def test_a_chunked_body_under_the_limit_goes_through(small: Gateway) -> None:
    async def body() -> AsyncIterator[bytes]:
        yield b'{"query": '
        yield b'"{ __typename }"}'

    response = await small.client.post("/graphql", content=body(),
                                       headers={"content-type": "application/json"})

    assert response.status_code == 200
    assert response.json()["data"] == {"__typename": "Query"}


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded",
                                          "multipart/form-data; boundary=x"])
async def test_post_bodies_must_be_json(small: Gateway, content_type: str) -> None:
    company = await create_company(small)
    headers = await create_api_key(small, company)
    customer = await create_customer(small, company)

    rest = await small.client.post(partner_route(customer.uid), content=b"a=1",
                                   headers={**headers, "content-type": content_type})
    graphql = await small.client.post("/graphql", content=b"query={__typename}",
                                      headers={"content-type": content_type})

    assert rest.status_code == 415
    assert rest.json() == {"ok": False, "error": {"code": "UNSUPPORTED_MEDIA_TYPE",
                                                  "message": "Content-Type must be application/json."}}
    assert graphql.status_code == 415


async def test_a_body_without_a_content_type_is_refused(small: Gateway) -> None:
    response = await small.client.post(partner_route("cus_01hzy4k6p4w9y2x7e2z7n8a2xm"),
                                       content=b"{}")

    assert response.status_code == 415


async def test_the_partner_route_takes_an_empty_body_without_content_type(small: Gateway) -> None:
    company = await create_company(small)
    headers = await create_api_key(small, company)
    customer = await create_customer(small, company)

    response = await small.client.post(partner_route(customer.uid), headers=headers)

    assert response.status_code == 200


async def test_cors_is_off_by_default(small: Gateway) -> None:
    preflight = await small.client.options("/graphql", headers={
        "origin": ORIGIN, "access-control-request-method": "POST"})
    simple = await small.client.post("/graphql", json={"query": "{ __typename }"},
                                     headers={"origin": ORIGIN})

    assert "access-control-allow-origin" not in preflight.headers
    assert preflight.status_code == 405
    assert "access-control-allow-origin" not in simple.headers


async def test_cors_allows_only_the_configured_origins(start_gateway: Callable[..., Any]) -> None:
    gw: Gateway = await start_gateway(cors_origins=ORIGIN)

    allowed = await gw.client.options("/graphql", headers={
        "origin": ORIGIN, "access-control-request-method": "POST",
        "access-control-request-headers": "content-type, x-makepay-portal"})
    other = await gw.client.options("/graphql", headers={
        "origin": "https://evil.example", "access-control-request-method": "POST"})
    simple = await gw.client.post("/graphql", json={"query": "{ __typename }"},
                                  headers={"origin": ORIGIN})

    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == ORIGIN
    assert "x-makepay-portal" in allowed.headers["access-control-allow-headers"]
    assert "access-control-allow-credentials" not in allowed.headers
    assert other.status_code == 400
    assert "access-control-allow-origin" not in other.headers
    assert simple.headers["access-control-allow-origin"] == ORIGIN


async def test_security_headers_are_on_every_response(small: Gateway) -> None:
    responses = [
        await small.client.get("/healthz"),
        await small.client.get("/readyz"),
        await small.client.get("/metrics"),
        await small.client.get("/no/such/route"),
        await small.client.post("/graphql", json={"query": "{ __typename }"}),
        await small.client.post("/graphql", content=b"x", headers={"content-type": "text/plain"}),
        await small.client.post("/graphql", content=b" " * (LIMIT + 1),
                                headers={"content-type": "application/json"}),
        await small.client.post(partner_route("not-an-id")),
        await small.client.get("/graphql", headers={"accept": "text/html"}),
    ]

    for response in responses:
        for name, value in SECURITY_HEADERS:
            assert response.headers.get(name.decode()) == value.decode(), (response.url, name)
        assert response.headers["x-request-id"]
