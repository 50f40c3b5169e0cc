"""Contract section 12: a key revoked with `gateway revoke-api-key` (its own process)
stops working in a serving process that has the key cached: within a second with
Redis, within API_KEY_CACHE_SECONDS without."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from gateway.config import Settings
from tests.factories import create_api_key, create_company, create_customer
from tests.servers import ROOT
from tests.support import Gateway, error_codes

CONTRACT_BOUND_SECONDS = 1.0
LINK = "mutation($c: ID!) { createPortalLink(customerId: $c) { expiresAt } }"
CUSTOMERS = "{ customers(first: 1) { edges { node { uid } } } }"

Send = Callable[[Gateway, dict[str, str], str], Awaitable[httpx.Response]]


async def graphql_link(gw: Gateway, headers: dict[str, str], uid: str) -> httpx.Response:
    return await gw.gql(LINK, {"c": uid}, headers)


async def rest_link(gw: Gateway, headers: dict[str, str], uid: str) -> httpx.Response:
    return await gw.client.post(f"/api/partner/v1/makepay/customers/{uid}/portal", headers=headers)


async def customers(gw: Gateway, headers: dict[str, str], uid: str) -> httpx.Response:
    return await gw.gql(CUSTOMERS, headers=headers)


REQUESTS: dict[str, Send] = {"createPortalLink": graphql_link, "partner route": rest_link,
                             "customers": customers}


def refused(response: httpx.Response) -> bool:
    body = response.json()
    if "errors" in body:
        return error_codes(body) == ["UNAUTHENTICATED"]
    if body.get("ok") is False:
        return response.status_code == 401 and body["error"]["code"] == "UNAUTHENTICATED"
    return False


async def revoke_with_the_cli(settings: Settings, key_id: str) -> None:
    env = {**os.environ, "ENVIRONMENT": "test", "DATABASE_URL": settings.database_url,
           "REDIS_URL": settings.redis_url or "", "REDIS_KEY_PREFIX": settings.redis_key_prefix,
           "API_KEY_PEPPER": settings.api_key_pepper}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "gateway", "revoke-api-key", key_id, "--json", cwd=ROOT, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    stdout, stderr = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, stderr.decode()
    assert key_id in stdout.decode()


async def serving_with_a_cached_key(gw: Gateway, send: Send) -> tuple[dict[str, str], str]:
    """A key and a customer, the key accepted once by `gw`, so its cache holds it."""
    company = await create_company(gw)
    headers = await create_api_key(gw, company)
    customer = await create_customer(gw, company)
    accepted = await send(gw, headers, customer.uid)
    assert accepted.status_code == 200, accepted.text
    assert "errors" not in accepted.json()
    return headers, customer.uid


@pytest.mark.parametrize("kind", list(REQUESTS))
async def test_a_revoked_key_is_refused_everywhere_within_a_second_with_redis(
    start_gateway: Callable[..., Any], kind: str
) -> None:
    gw: Gateway = await start_gateway()
    if gw.store_kind == "memory":
        pytest.skip("processes share revocations through Redis")
    send = REQUESTS[kind]
    headers, uid = await serving_with_a_cached_key(gw, send)

    await revoke_with_the_cli(gw.settings, headers["x-makecrypto-key-id"])

    # A bound on correctness, not a speed measurement: poll until refused.
    revoked_at = time.monotonic()
    while not refused(response := await send(gw, headers, uid)):
        assert response.status_code == 200, response.text
        assert time.monotonic() - revoked_at < CONTRACT_BOUND_SECONDS, (
            f"{kind} still accepted the key {CONTRACT_BOUND_SECONDS}s after its revocation")
        await asyncio.sleep(0.05)
    again = await send(gw, headers, uid)
    assert refused(again), "a revoked key stays refused"


async def test_a_refused_revoked_key_spends_no_link_budget(start_gateway: Callable[..., Any]) -> None:
    """Refused like an unknown key: one failure counted, no link spent from its budget."""
    gw: Gateway = await start_gateway(rate_limit_auth_failures_per_minute=100)
    if gw.store_kind == "memory":
        pytest.skip("processes share revocations through Redis")
    headers, uid = await serving_with_a_cached_key(gw, graphql_link)
    key_id = headers["x-makecrypto-key-id"]
    principal = gw.state.api_keys.authenticate_cached(key_id, headers["x-makecrypto-key-secret"])
    assert principal is not None
    await revoke_with_the_cli(gw.settings, key_id)
    store, limiter = gw.state.store, gw.state.limiter
    links = limiter.link_budget(principal.company_id, principal.rate_key)
    failures = limiter.auth_failure_budget("203.0.113.7")
    links_before = (await store.rate_peek(links.key, links.limit)).remaining
    failures_before = (await store.rate_peek(failures.key, failures.limit)).remaining

    response = await graphql_link(gw, headers, uid)

    assert refused(response)
    # Time only refills a budget: a spent link or a counted failure shows as one less.
    assert (await store.rate_peek(links.key, links.limit)).remaining >= links_before
    assert (await store.rate_peek(failures.key, failures.limit)).remaining < failures_before


async def test_without_redis_other_processes_refuse_it_within_the_cache_time(
    start_gateway: Callable[..., Any]
) -> None:
    gw: Gateway = await start_gateway(api_key_cache_seconds=5)
    if gw.store_kind != "memory":
        pytest.skip("the bound without Redis")
    headers, uid = await serving_with_a_cached_key(gw, graphql_link)

    await revoke_with_the_cli(gw.settings, headers["x-makecrypto-key-id"])
    gw.clock.advance(5.5)

    assert refused(await graphql_link(gw, headers, uid))
