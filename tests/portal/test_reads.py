"""What the portal shows: only the signed customer's data (contract section 5.2)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from tests.factories import (
    create_company,
    create_customer,
    create_payment,
    create_payment_link,
    create_subscription,
)
from tests.portal.conftest import Tenant, make_tenant
from tests.support import Gateway, error_codes

PAYMENTS = """query($first: Int, $after: String) { portal { payments(first: $first, after: $after) {
  edges { cursor node { description amount currency status } }
  pageInfo { hasNextPage endCursor } } } }"""
LINKS = "query { portal { paymentLinks { description status amount currency url expiresAt } } }"
SUBSCRIPTIONS = """query { portal { subscriptions {
  id status planName amount currency interval currentPeriodEnd } } }"""


def descriptions(body: dict[str, Any], field: str) -> list[str]:
    value = body["data"]["portal"][field]
    items = [edge["node"] for edge in value["edges"]] if field == "payments" else value
    return [item["description"] if "description" in item else item["planName"] for item in items]


async def test_the_portal_holds_the_signed_customer(tenant: Tenant) -> None:
    body = await tenant.portal()

    portal = body["data"]["portal"]
    assert portal["customer"] == {
        "id": str(tenant.customer.id), "uid": tenant.customer.uid, "name": "Ada Lovelace",
        "email": "buyer@example.com", "clientId": "client_1042",
        "createdAt": portal["customer"]["createdAt"],
    }
    assert portal["payments"] == {"edges": [], "pageInfo": {"hasNextPage": False, "endCursor": None}}
    assert portal["paymentLinks"] == []
    assert portal["subscriptions"] == []


async def test_payments_match_by_email_or_client_id_newest_first(tenant: Tenant) -> None:
    gw, company = tenant.gw, tenant.company
    await create_payment(gw, company, description="by email")
    gw.clock.advance(1)
    await create_payment(gw, company, email=None, client_id="client_1042", description="by client id")
    gw.clock.advance(1)
    await create_payment(gw, company, email="someone@example.com", description="someone else's")
    await create_payment(gw, company, email=None, client_id="client_9", description="other client")
    other = await create_company(gw, "Other")
    await create_payment(gw, other, description="same email, other company")
    await create_payment(gw, other, email=None, client_id="client_1042", description="same client, other company")

    body = await tenant.portal(PAYMENTS)

    assert descriptions(body, "payments") == ["by client id", "by email"]


async def test_payments_page_with_cursors(tenant: Tenant) -> None:
    for n in range(5):
        await create_payment(tenant.gw, tenant.company, description=f"p{n}",
                             amount=f"{n + 1}.5", currency="EUR")
        tenant.gw.clock.advance(1)

    seen: list[str] = []
    after = None
    pages = 0
    while True:
        body = await tenant.portal(PAYMENTS, {"first": 2, "after": after})
        payments = body["data"]["portal"]["payments"]
        seen += descriptions(body, "payments")
        pages += 1
        if not payments["pageInfo"]["hasNextPage"]:
            break
        after = payments["pageInfo"]["endCursor"]
        assert after == payments["edges"][-1]["cursor"]

    assert seen == ["p4", "p3", "p2", "p1", "p0"]
    assert pages == 3
    first = (await tenant.portal(PAYMENTS, {"first": 1}))["data"]["portal"]["payments"]["edges"][0]
    assert first["node"] == {"description": "p4", "amount": "5.50", "currency": "EUR", "status": "paid"}


@pytest.mark.parametrize(("variables", "fragment"), [
    ({"first": 0}, "first"), ({"first": 101}, "first"), ({"after": "bm90IGEgY3Vyc29y"}, "cursor"),
])
async def test_bad_paging_arguments_are_bad_requests(
    tenant: Tenant, variables: dict[str, Any], fragment: str
) -> None:
    body = await tenant.portal(PAYMENTS, variables)

    assert error_codes(body) == ["BAD_REQUEST"]
    assert fragment in body["errors"][0]["message"]


async def test_payment_links_are_the_open_unexpired_ones(tenant: Tenant) -> None:
    gw, company = tenant.gw, tenant.company
    await create_payment_link(gw, company, description="active")
    unpaid = await create_payment_link(gw, company, email=None, client_id="client_1042",
                                       description="unpaid by client id")
    await create_payment_link(gw, company, description="expires soon",
                                     expires_at=gw.clock.now() + timedelta(hours=1))
    closed = {s: await create_payment_link(gw, company, description=s)
              for s in ("paid", "expired", "cancelled")}
    await create_payment_link(gw, company, email="x@example.com", description="someone else's")
    async with gw.state.session_factory() as session:
        for status, row in [("unpaid", unpaid), *closed.items()]:
            row.status = status
            session.add(row)
        await session.commit()

    body = await tenant.portal(LINKS)
    assert sorted(descriptions(body, "paymentLinks")) == ["active", "expires soon", "unpaid by client id"]
    link = next(x for x in body["data"]["portal"]["paymentLinks"] if x["description"] == "active")
    assert link["url"].startswith("https://pay.makepay.io/pay/")
    assert (link["amount"], link["currency"], link["status"]) == ("99.00", "USD", "active")

    gw.clock.advance(3601)

    body = await tenant.portal(LINKS)
    assert sorted(descriptions(body, "paymentLinks")) == ["active", "unpaid by client id"]


async def test_subscriptions_match_by_email_or_metadata_client_id(tenant: Tenant) -> None:
    gw, company = tenant.gw, tenant.company
    by_email = await create_subscription(gw, company, plan_name="By email", status="paused")
    await create_subscription(gw, company, plan_name="By client id", email=None,
                              metadata={"clientId": "client_1042"}, amount="0.25", currency="SOL",
                              interval="week")
    await create_subscription(gw, company, plan_name="Other", email="x@example.com")
    other = await create_company(gw, "Other")
    await create_subscription(gw, other, plan_name="Other company")

    body = await tenant.portal(SUBSCRIPTIONS)

    subscriptions = {s["planName"]: s for s in body["data"]["portal"]["subscriptions"]}
    assert set(subscriptions) == {"By email", "By client id"}
    assert subscriptions["By email"]["id"] == str(by_email.id)
    assert subscriptions["By email"]["status"] == "paused"
    assert subscriptions["By client id"]["amount"] == "0.250000000"
    assert (subscriptions["By client id"]["interval"], subscriptions["By client id"]["currency"]) == ("week", "SOL")


async def test_a_customer_sees_nothing_of_another_customer(gw: Gateway) -> None:
    ada = await make_tenant(gw)
    grace = await create_customer(gw, ada.company, email="grace@example.com", client_id="client_2")
    await create_payment(gw, ada.company, email=grace.email, description="grace's")
    await create_subscription(gw, ada.company, email=grace.email, plan_name="grace's")
    await create_payment_link(gw, ada.company, email=grace.email, description="grace's")

    portal = (await ada.portal())["data"]["portal"]

    assert portal["payments"]["edges"] == []
    assert portal["subscriptions"] == []
    assert portal["paymentLinks"] == []


async def test_reads_are_limited_per_link(start_gateway: Callable[..., Any]) -> None:
    gw: Gateway = await start_gateway(rate_limit_portal_reads_per_minute=2)
    tenant = await make_tenant(gw)
    for _ in range(2):
        assert error_codes(await tenant.portal()) == []

    limited = await tenant.portal()

    assert error_codes(limited) == ["RATE_LIMITED"]
    assert limited["_status"] == 429
    assert int(limited["_headers"]["retry-after"]) >= 1
