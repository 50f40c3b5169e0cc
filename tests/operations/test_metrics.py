"""/metrics in process: labels by route and GraphQL operation, bounded label values,
link verification outcomes, rate-limit rejections."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from gateway.metrics import record_link_verification
from tests.factories import create_api_key, create_company, create_customer
from tests.portal.conftest import make_tenant
from tests.support import Gateway

pytestmark = pytest.mark.parametrize("backend", [("sqlite", "memory")], indirect=True)


def value(scrape: str, name: str, **labels: str) -> float:
    """The sample's value, 0 when absent. Labels are printed in sorted order."""
    inner = ",".join(f'{k}="{re.escape(v)}"' for k, v in sorted(labels.items()))
    found = re.search(rf"^{name}\{{{inner}\}} (\S+)$", scrape, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


async def scrape(gw: Gateway) -> str:
    response = await gw.client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return response.text


async def test_requests_are_counted_by_route_and_operation(gw: Gateway) -> None:
    company = await create_company(gw)
    headers = await create_api_key(gw, company)
    customer = await create_customer(gw, company)
    before = await scrape(gw)
    labels = {"route": "/graphql", "operation": "mutation createPortalLink", "status": "200"}

    await gw.client.post("/graphql", headers=headers, json={
        "query": "mutation ChosenByTheClient($c: ID!) { createPortalLink(customerId: $c) { expiresAt } }",
        "variables": {"c": customer.uid}, "operationName": "ChosenByTheClient"})
    await gw.client.post("/graphql", json={"query": "{ nonsense }"})
    await gw.client.post(f"/api/partner/v1/makepay/customers/{customer.uid}/portal", headers=headers)
    after = await scrape(gw)

    assert value(after, "gateway_requests_total", **labels) == value(
        before, "gateway_requests_total", **labels) + 1
    assert value(after, "gateway_request_duration_seconds_count", route="/graphql",
                 operation="mutation createPortalLink") >= 1
    assert value(after, "gateway_requests_total", route="/graphql", operation="invalid",
                 status="200") >= 1
    assert value(after, "gateway_requests_total",
                 route="/api/partner/v1/makepay/customers/{customer_id}/portal",
                 operation="", status="200") >= 1
    assert "ChosenByTheClient" not in after  # client-chosen names never become labels
    assert customer.uid not in after  # nor paths


async def test_rate_limit_rejections_are_counted(start_gateway: Callable[..., Any]) -> None:
    gw: Gateway = await start_gateway(rate_limit_links_per_minute=1)
    company = await create_company(gw)
    headers = await create_api_key(gw, company)
    customer = await create_customer(gw, company)
    before = value(await scrape(gw), "gateway_rate_limit_rejections_total", budget="links")

    for _ in range(3):
        await gw.client.post(f"/api/partner/v1/makepay/customers/{customer.uid}/portal",
                             headers=headers)

    after = value(await scrape(gw), "gateway_rate_limit_rejections_total", budget="links")
    assert after == before + 2


async def test_portal_link_verifications_are_counted_by_outcome(gw: Gateway) -> None:
    tenant = await make_tenant(gw)
    read = "query { portal { customer { uid } } }"
    genuine = tenant.link["x-makepay-portal"]
    tampered = {"x-makepay-portal": genuine[:-1] + ("1" if genuine.endswith("0") else "0")}
    name = "gateway_portal_link_verifications_total"
    before = await scrape(gw)

    assert "errors" not in await tenant.portal(read)
    await tenant.portal(read, link=tampered)
    await gw.gql_data("mutation($c: ID!) { revokePortalLinks(customerId: $c) { revokedBefore } }",
                      {"c": tenant.customer.uid}, tenant.api_key)
    await tenant.portal(read)
    gw.clock.advance(2 * 86_400)
    await tenant.portal(read)
    record_link_verification("anything else")  # an unknown outcome adds no label

    after = await scrape(gw)
    for outcome, added in (("valid", 1), ("invalid", 2), ("revoked", 1), ("expired", 1)):
        assert value(after, name, outcome=outcome) == value(before, name, outcome=outcome) + added
    assert "anything else" not in after


async def test_metrics_can_be_turned_off(start_gateway: Callable[..., Any]) -> None:
    gw: Gateway = await start_gateway(metrics_enabled=False)

    assert (await gw.client.get("/metrics")).status_code == 404


async def test_metrics_need_the_token_when_one_is_set(start_gateway: Callable[..., Any]) -> None:
    token = "metrics-token-for-the-scraper-0123456789"
    gw: Gateway = await start_gateway(metrics_token=token)

    anonymous = await gw.client.get("/metrics")
    other_scheme = await gw.client.get("/metrics", headers={"authorization": f"Basic {token}"})
    prefix = await gw.client.get("/metrics", headers={"authorization": f"Bearer {token[:-1]}"})
    scraper = await gw.client.get("/metrics", headers={"authorization": f"Bearer {token}"})

    for refused in (anonymous, other_scheme, prefix):
        assert refused.status_code == 401
        assert refused.json()["error"]["code"] == "UNAUTHENTICATED"
        assert "gateway_requests_total" not in refused.text
    assert scraper.status_code == 200
    assert "gateway_requests_total" in scraper.text


async def test_metrics_are_not_served_in_production_without_a_token(
    start_gateway: Callable[..., Any],
) -> None:
    gw: Gateway = await start_gateway(environment="production")

    assert (await gw.client.get("/metrics")).status_code == 404
