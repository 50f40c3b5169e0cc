"""PostgreSQL stopped and restarted under a running gateway."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select

from gateway.models import AuditEvent, Customer, Subscription
from tests.factories import create_api_key, create_company, create_customer, create_subscription
from tests.portal.conftest import make_tenant
from tests.services import PrivatePostgres
from tests.support import Gateway, error_codes

pytestmark = pytest.mark.parametrize("backend", [("postgres", "redis")], indirect=True)

CREATE_LINK = "mutation($c: ID!) { createPortalLink(customerId: $c) { expiresAt } }"
CREATE_CUSTOMER = 'mutation { createCustomer(input: {email: "new@example.com"}) { id } }'


@pytest.fixture
async def setup(start_gateway: Callable[..., Any], private_postgres: PrivatePostgres
                ) -> tuple[Gateway, dict[str, str], str]:
    gw: Gateway = await start_gateway(database_url=private_postgres.url)
    company = await create_company(gw)
    headers = await create_api_key(gw, company)
    customer = await create_customer(gw, company)
    return gw, headers, customer.uid


async def count_customers(gw: Gateway) -> int:
    async with gw.state.session_factory() as session:
        return int((await session.execute(select(func.count()).select_from(Customer))).scalar_one())


async def test_data_operations_answer_unavailable_while_the_database_is_down(
    setup: tuple[Gateway, dict[str, str], str], private_postgres: PrivatePostgres,
) -> None:
    gw, headers, customer = setup
    assert (await gw.gql(CREATE_LINK, {"c": customer}, headers=headers)).status_code == 200
    before = await count_customers(gw)

    await asyncio.to_thread(private_postgres.stop)
    link = await gw.gql(CREATE_LINK, {"c": customer}, headers=headers)
    created = await gw.gql(CREATE_CUSTOMER, headers=headers)
    rest = await gw.client.post(f"/api/partner/v1/makepay/customers/{customer}/portal",
                                headers=headers)
    unknown_key = await gw.gql(CREATE_LINK, {"c": customer}, headers={
        "x-makecrypto-key-id": "mk_makepay_" + "a" * 24, "x-makecrypto-key-secret": "x" * 43})
    ready = await gw.client.get("/readyz")

    for response in (link, created, unknown_key):
        assert response.status_code == 503, response.json()
        assert error_codes(response.json()) == ["UNAVAILABLE"]
        assert response.headers["retry-after"]
    assert rest.status_code == 503
    assert rest.json()["error"]["code"] == "UNAVAILABLE"
    for response in (link, created, rest, unknown_key):
        assert "asyncpg" not in response.text
        assert "SELECT" not in response.text
    assert ready.status_code == 503
    assert ready.json()["checks"]["database"] is False

    await asyncio.to_thread(private_postgres.start)
    # The same process, the same pool: it reconnects by itself.
    again = await gw.gql(CREATE_LINK, {"c": customer}, headers=headers)
    assert again.status_code == 200, again.json()
    assert (await gw.client.get("/readyz")).status_code == 200
    # The customer created while the database was down does not exist.
    assert await count_customers(gw) == before


async def test_the_pool_survives_a_database_restart_between_requests(
    setup: tuple[Gateway, dict[str, str], str], private_postgres: PrivatePostgres,
) -> None:
    gw, headers, customer = setup
    assert (await gw.gql(CREATE_CUSTOMER, headers=headers)).status_code == 200

    await asyncio.to_thread(private_postgres.stop)
    await asyncio.to_thread(private_postgres.start)
    # Every pooled connection died with the old server.
    after = await gw.gql(CREATE_CUSTOMER, headers=headers)
    link = await gw.gql(CREATE_LINK, {"c": customer}, headers=headers)

    assert after.status_code == 200, after.json()
    assert link.status_code == 200, link.json()


async def test_a_portal_mutation_while_the_database_is_down_changes_nothing(
    start_gateway: Callable[..., Any], private_postgres: PrivatePostgres,
) -> None:
    gw: Gateway = await start_gateway(database_url=private_postgres.url)
    tenant = await make_tenant(gw)
    subscription = await create_subscription(gw, tenant.company)
    cancel = """mutation($id: ID!, $key: String) {
      cancelSubscription(subscriptionId: $id, idempotencyKey: $key) { status } }"""

    await asyncio.to_thread(private_postgres.stop)
    down = await tenant.portal(cancel, {"id": str(subscription.id), "key": "k-down"})
    read = await tenant.portal("query { portal { customer { uid } } }")
    await asyncio.to_thread(private_postgres.start)

    assert down["_status"] == 503
    assert error_codes(down) == ["UNAVAILABLE"]
    assert error_codes(read) == ["UNAVAILABLE"]
    async with gw.state.session_factory() as session:
        stored = await session.get(Subscription, subscription.id)
        events = (await session.execute(select(AuditEvent).where(
            AuditEvent.customer_uid == tenant.customer.uid))).scalars().all()
    assert stored is not None
    assert stored.status == "active"
    assert events == []
    # The same idempotency key once the database is back: the failure was not recorded
    # as the key's outcome, so the cancel happens now, once, audited.
    up = await tenant.portal(cancel, {"id": str(subscription.id), "key": "k-down"})
    assert up["data"]["cancelSubscription"]["status"] == "cancelled"
