"""Budgets of contract section 9, on Redis and on the in-memory store."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.cluster import backend_with_cluster  # noqa: F401  (also on a Redis Cluster)
from tests.factories import create_api_key, create_company, create_customer
from tests.support import Gateway


def route(customer_id: str) -> str:
    return f"/api/partner/v1/makepay/customers/{customer_id}/portal"


async def test_link_creation_is_limited_per_api_key(start_gateway: Callable[..., Any]) -> None:
    gw: Gateway = await start_gateway(rate_limit_links_per_minute=3)
    company = await create_company(gw)
    headers = await create_api_key(gw, company)
    other_key = await create_api_key(gw, company)
    customer = await create_customer(gw, company)

    statuses = [(await gw.client.post(route(customer.uid), headers=headers)).status_code
                for _ in range(3)]
    limited = await gw.client.post(route(customer.uid), headers=headers)
    other = await gw.client.post(route(customer.uid), headers=other_key)

    assert statuses == [200, 200, 200]
    assert limited.status_code == 429
    assert limited.json()["error"]["code"] == "RATE_LIMITED"
    assert 1 <= int(limited.headers["retry-after"]) <= 60
    assert limited.headers["ratelimit-limit"] == "3"
    assert limited.headers["ratelimit-remaining"] == "0"
    assert other.status_code == 200, "each API key has its own budget"


async def test_success_carries_the_rate_limit_headers(start_gateway: Callable[..., Any]) -> None:
    gw: Gateway = await start_gateway(rate_limit_links_per_minute=10)
    company = await create_company(gw)
    headers = await create_api_key(gw, company)
    customer = await create_customer(gw, company)

    first = await gw.client.post(route(customer.uid), headers=headers)
    second = await gw.client.post(route(customer.uid), headers=headers)

    assert first.headers["ratelimit-limit"] == "10"
    assert first.headers["ratelimit-remaining"] == "9"
    assert second.headers["ratelimit-remaining"] == "8"


async def test_graphql_rate_limit_is_http_429_with_retry_after(start_gateway: Callable[..., Any]) -> None:
    gw: Gateway = await start_gateway(rate_limit_links_per_minute=1)
    company = await create_company(gw)
    headers = await create_api_key(gw, company)
    customer = await create_customer(gw, company)
    query = "mutation($c: ID!) { createPortalLink(customerId: $c) { expiresAt } }"

    ok = await gw.gql(query, {"c": customer.uid}, headers)
    limited = await gw.gql(query, {"c": customer.uid}, headers)

    assert ok.status_code == 200
    assert limited.status_code == 429
    assert limited.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
    assert int(limited.headers["retry-after"]) >= 1


async def test_failed_authentications_block_the_ip(start_gateway: Callable[..., Any]) -> None:
    gw: Gateway = await start_gateway(rate_limit_auth_failures_per_minute=3)
    company = await create_company(gw)
    good = await create_api_key(gw, company)
    customer = await create_customer(gw, company)
    bad = {**good, "x-makecrypto-key-secret": "wrong-secret"}

    failures = [(await gw.client.post(route(customer.uid), headers=bad)).status_code for _ in range(3)]
    blocked_bad = await gw.client.post(route(customer.uid), headers=bad)
    blocked_good = await gw.client.post(route(customer.uid), headers=good)

    assert failures == [401, 401, 401]
    assert blocked_bad.status_code == 429
    # Past the budget the IP's attempts are refused unchecked, even a correct key.
    assert blocked_good.status_code == 429
    assert int(blocked_good.headers["retry-after"]) >= 1


async def test_failure_budget_is_per_ip(start_gateway: Callable[..., Any]) -> None:
    attacker: Gateway = await start_gateway(rate_limit_auth_failures_per_minute=2, client_ip="198.51.100.1")
    company = await create_company(attacker)
    good = await create_api_key(attacker, company)
    customer = await create_customer(attacker, company)
    bad = {**good, "x-makecrypto-key-secret": "wrong"}
    for _ in range(3):
        await attacker.client.post(route(customer.uid), headers=bad)

    # Another client of the same gateway is unaffected.
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=attacker.app, client=("198.51.100.2", 1)),
        base_url="http://testserver",
    ) as honest:
        response = await honest.post(route(customer.uid), headers=good)

    assert response.status_code == 200


async def test_two_gateway_apps_share_one_budget(start_gateway: Callable[..., Any]) -> None:
    first: Gateway = await start_gateway(rate_limit_links_per_minute=4)
    if first.store_kind == "memory":
        pytest.skip("the in-memory store belongs to one process; sharing needs Redis")
    second: Gateway = await start_gateway(rate_limit_links_per_minute=4,
                                          redis_key_prefix=first.settings.redis_key_prefix)
    company = await create_company(first)
    headers = await create_api_key(first, company)
    customer = await create_customer(first, company)

    statuses = []
    for i in range(6):
        gw = first if i % 2 == 0 else second
        statuses.append((await gw.client.post(route(customer.uid), headers=headers)).status_code)

    assert statuses == [200, 200, 200, 200, 429, 429]
