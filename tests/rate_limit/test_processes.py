"""Two real gateway processes against one Redis share one budget."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.factories import create_api_key, create_company, create_customer
from tests.servers import gateway_process
from tests.support import Gateway


@pytest.mark.slow
async def test_two_processes_share_the_link_budget(start_gateway: Callable[..., Any]) -> None:
    gw: Gateway = await start_gateway(rate_limit_links_per_minute=5)
    if gw.store_kind == "memory":
        pytest.skip("the in-memory store belongs to one process; sharing needs Redis")
    company = await create_company(gw)
    headers = await create_api_key(gw, company)
    customer = await create_customer(gw, company)
    settings = gw.settings
    env = {
        "ENVIRONMENT": "test",
        "DATABASE_URL": settings.database_url,
        "REDIS_URL": settings.redis_url or "",
        "REDIS_KEY_PREFIX": settings.redis_key_prefix,
        "PORTAL_SIGNING_SECRETS": ",".join(settings.portal_signing_secrets),
        "API_KEY_PEPPER": settings.api_key_pepper,
        "RATE_LIMIT_LINKS_PER_MINUTE": "5",
        "LOG_LEVEL": "WARNING",
    }

    def run() -> list[int]:
        with gateway_process(env) as first, gateway_process(env) as second:
            statuses = []
            with httpx.Client(timeout=10) as client:
                for i in range(8):
                    base = first if i % 2 == 0 else second
                    url = f"{base}/api/partner/v1/makepay/customers/{customer.uid}/portal"
                    statuses.append(client.post(url, headers=headers).status_code)
            return statuses

    statuses = await asyncio.to_thread(run)

    assert statuses == [200] * 5 + [429] * 3
