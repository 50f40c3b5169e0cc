"""What a customer may change from the portal (contract section 5.2)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from gateway.audit.repository import AuditEventRepository
from gateway.models import Subscription
from gateway.models.subscription import SUBSCRIPTION_STATUSES
from gateway.signing.link import LINK_TTL_SECONDS
from tests.cluster import backend_with_cluster  # noqa: F401  (also on a Redis Cluster)
from tests.factories import create_company, create_customer, create_subscription
from tests.portal.conftest import Tenant, link_header, make_tenant
from tests.support import CONTRACT_STATE_TABLE, Gateway, error_codes

RENAME = "mutation($name: String!) { updatePortalDisplayName(name: $name) { id uid name email } }"
ACT = """mutation($id: ID!, $key: String) {{
  {action}Subscription(subscriptionId: $id, idempotencyKey: $key) {{ id status planName amount }}
}}"""


async def act(tenant: Tenant, action: str, subscription_id: str, key: str | None = None,
              link: dict[str, str] | None = None) -> dict[str, Any]:
    return await tenant.portal(ACT.format(action=action), {"id": subscription_id, "key": key}, link)


async def status_of(gw: Gateway, subscription: Subscription) -> str:
    async with gw.state.session_factory() as session:
        row = await session.get(Subscription, subscription.id)
        assert row is not None
        return row.status


async def audit_actions(tenant: Tenant) -> list[tuple[str, str | None, str | None]]:
    async with tenant.gw.state.session_factory() as session:
        events = await AuditEventRepository(session).list_for_customer(
            tenant.company.id, tenant.customer.uid)
    return [(e.action, e.state_before, e.state_after) for e in events]


class TestDisplayName:
    async def test_the_customer_renames_themselves_trimmed(self, tenant: Tenant) -> None:
        body = await tenant.portal(RENAME, {"name": "  Ada King  "})

        assert body["data"]["updatePortalDisplayName"]["name"] == "Ada King"
        merchant_view = await tenant.gw.gql_data(
            "query($id: ID!) { customer(customerId: $id) { name email } }",
            {"id": tenant.customer.uid}, tenant.api_key)
        assert merchant_view["customer"] == {"name": "Ada King", "email": "buyer@example.com"}
        assert await audit_actions(tenant) == [("customer.rename", "Ada Lovelace", "Ada King")]

    @pytest.mark.parametrize("name", ["", "   ", "x" * 101, "Ada\u0000", "Ada\nKing", "\u0007"])
    async def test_a_bad_name_is_refused_and_changes_nothing(self, tenant: Tenant, name: str) -> None:
        body = await tenant.portal(RENAME, {"name": name})

        assert error_codes(body) == ["BAD_REQUEST"]
        portal = await tenant.portal("query { portal { customer { name } } }")
        assert portal["data"]["portal"]["customer"]["name"] == "Ada Lovelace"
        assert await audit_actions(tenant) == []

    async def test_a_name_of_exactly_100_characters_is_accepted(self, tenant: Tenant) -> None:
        body = await tenant.portal(RENAME, {"name": "é" * 100})

        assert body["data"]["updatePortalDisplayName"]["name"] == "é" * 100

    async def test_an_expired_link_changes_nothing(self, tenant: Tenant) -> None:
        tenant.gw.clock.advance(LINK_TTL_SECONDS + 1)

        body = await tenant.portal(RENAME, {"name": "Mallory"})

        assert error_codes(body) == ["PORTAL_LINK_EXPIRED"]
        assert await audit_actions(tenant) == []


class TestSubscriptionActions:
    async def test_every_state_and_action_follows_the_state_table(self, tenant: Tenant) -> None:
        for before, outcomes in CONTRACT_STATE_TABLE.items():
            for action, after in outcomes.items():
                row = await create_subscription(tenant.gw, tenant.company, status=before)

                body = await act(tenant, action, str(row.id))

                case = f"{action} from {before}"
                if after is None:
                    assert error_codes(body) == ["SUBSCRIPTION_STATE_CONFLICT"], case
                    assert body["errors"][0]["extensions"]["currentStatus"] == before, case
                    assert await status_of(tenant.gw, row) == before, case
                else:
                    assert body["data"][f"{action}Subscription"]["status"] == after, case
                    assert await status_of(tenant.gw, row) == after, case
        assert set(CONTRACT_STATE_TABLE) == set(SUBSCRIPTION_STATUSES)

    async def test_a_change_is_audited_with_both_states(self, tenant: Tenant) -> None:
        row = await create_subscription(tenant.gw, tenant.company)

        await act(tenant, "pause", str(row.id))
        await act(tenant, "reactivate", str(row.id))
        await act(tenant, "pause", str(row.id))
        await act(tenant, "pause", str(row.id))  # a conflict: not a change

        assert await audit_actions(tenant) == [
            ("subscription.pause", "active", "paused"),
            ("subscription.reactivate", "paused", "active"),
            ("subscription.pause", "active", "paused"),
        ]

    async def test_the_result_is_the_subscription_after_the_call(self, tenant: Tenant) -> None:
        row = await create_subscription(tenant.gw, tenant.company, plan_name="Pro", amount="49")

        body = await act(tenant, "cancel", str(row.id))

        assert body["data"]["cancelSubscription"] == {
            "id": str(row.id), "status": "cancelled", "planName": "Pro", "amount": "49.00"}

    async def test_another_customers_subscription_is_not_found_and_unchanged(self, tenant: Tenant) -> None:
        gw = tenant.gw
        await create_customer(gw, tenant.company, email="grace@example.com", client_id="client_2")
        graces = await create_subscription(gw, tenant.company, email="grace@example.com")
        other_company = await create_company(gw, "Other")
        same_email_elsewhere = await create_subscription(gw, other_company)

        for target in (graces, same_email_elsewhere):
            body = await act(tenant, "cancel", str(target.id))

            assert error_codes(body) == ["NOT_FOUND"]
            assert await status_of(gw, target) == "active"

    @pytest.mark.parametrize("bad_id", ["42", "cus_01hzy4k6p4w9y2x7e2z7n8a2xm", "' OR 1=1 --"])
    async def test_a_malformed_id_is_a_bad_request(self, tenant: Tenant, bad_id: str) -> None:
        assert error_codes(await act(tenant, "pause", bad_id)) == ["BAD_REQUEST"]

    async def test_two_concurrent_conflicting_actions_have_one_winner(self, tenant: Tenant) -> None:
        row = await create_subscription(tenant.gw, tenant.company, status="paused")

        bodies = await asyncio.gather(*(act(tenant, "reactivate", str(row.id)) for _ in range(4)))

        outcomes = sorted(error_codes(b)[0] if "errors" in b else "ok" for b in bodies)
        assert outcomes == ["SUBSCRIPTION_STATE_CONFLICT"] * 3 + ["ok"]
        assert await status_of(tenant.gw, row) == "active"
        assert len(await audit_actions(tenant)) == 1


class TestIdempotency:
    async def test_a_repeated_call_returns_the_first_result_without_acting(self, tenant: Tenant) -> None:
        row = await create_subscription(tenant.gw, tenant.company)
        first = await act(tenant, "pause", str(row.id), key="k-1")
        await act(tenant, "reactivate", str(row.id))  # state moves on

        again = await act(tenant, "pause", str(row.id), key="k-1")

        assert again["data"] == first["data"]
        assert again["data"]["pauseSubscription"]["status"] == "paused"
        assert await status_of(tenant.gw, row) == "active"
        assert [a for a, _, _ in await audit_actions(tenant)] == [
            "subscription.pause", "subscription.reactivate"]

    async def test_a_conflict_is_replayed_too(self, tenant: Tenant) -> None:
        row = await create_subscription(tenant.gw, tenant.company, status="cancelled")
        first = await act(tenant, "cancel", str(row.id), key="k-2")

        again = await act(tenant, "cancel", str(row.id), key="k-2")

        assert error_codes(first) == error_codes(again) == ["SUBSCRIPTION_STATE_CONFLICT"]
        assert again["errors"][0]["extensions"] == first["errors"][0]["extensions"]

    async def test_the_same_key_with_other_arguments_is_refused(self, tenant: Tenant) -> None:
        one = await create_subscription(tenant.gw, tenant.company)
        two = await create_subscription(tenant.gw, tenant.company)
        await act(tenant, "pause", str(one.id), key="k-3")

        other_subscription = await act(tenant, "pause", str(two.id), key="k-3")
        other_action = await act(tenant, "cancel", str(one.id), key="k-3")

        assert error_codes(other_subscription) == ["IDEMPOTENCY_KEY_REUSED"]
        assert error_codes(other_action) == ["IDEMPOTENCY_KEY_REUSED"]
        assert await status_of(tenant.gw, two) == "active"
        assert await status_of(tenant.gw, one) == "paused"

    async def test_keys_belong_to_one_customer(self, tenant: Tenant) -> None:
        gw = tenant.gw
        grace = await create_customer(gw, tenant.company, email="grace@example.com", client_id="c2")
        graces = await create_subscription(gw, tenant.company, email="grace@example.com")
        adas = await create_subscription(gw, tenant.company)
        await act(tenant, "pause", str(adas.id), key="shared")

        as_grace = await act(tenant, "pause", str(graces.id), key="shared",
                             link=link_header(gw, tenant.company.id, grace.uid))

        assert as_grace["data"]["pauseSubscription"]["status"] == "paused"

    async def test_concurrent_calls_with_one_key_act_once(self, tenant: Tenant) -> None:
        row = await create_subscription(tenant.gw, tenant.company)

        bodies = await asyncio.gather(*(act(tenant, "pause", str(row.id), key="k-4") for _ in range(4)))

        assert all(b["data"]["pauseSubscription"]["status"] == "paused" for b in bodies), bodies
        assert len(await audit_actions(tenant)) == 1

    @pytest.mark.parametrize("key", ["", "x" * 201, "tab\there"], ids=["empty", "too-long", "tab"])
    async def test_a_malformed_key_is_a_bad_request(self, tenant: Tenant, key: str) -> None:
        row = await create_subscription(tenant.gw, tenant.company)

        assert error_codes(await act(tenant, "pause", str(row.id), key=key)) == ["BAD_REQUEST"]
        assert await status_of(tenant.gw, row) == "active"


async def test_writes_are_limited_per_link(start_gateway: Callable[..., Any]) -> None:
    gw: Gateway = await start_gateway(rate_limit_portal_writes_per_minute=1)
    tenant = await make_tenant(gw)
    await tenant.portal(RENAME, {"name": "One"})

    limited = await tenant.portal(RENAME, {"name": "Two"})

    assert error_codes(limited) == ["RATE_LIMITED"]
    assert limited["_status"] == 429
    assert "retry-after" in limited["_headers"]


async def test_each_mutation_field_of_a_document_spends_from_the_budget(
    start_gateway: Callable[..., Any]
) -> None:
    gw: Gateway = await start_gateway(rate_limit_portal_writes_per_minute=2)
    tenant = await make_tenant(gw)
    three = """mutation { a: updatePortalDisplayName(name: "A") { name }
                          b: updatePortalDisplayName(name: "B") { name }
                          c: updatePortalDisplayName(name: "C") { name } }"""

    body = await tenant.portal(three)

    assert error_codes(body) == ["RATE_LIMITED"]
    assert body["errors"][0]["path"] == ["c"]
    assert await audit_actions(tenant) == [("customer.rename", "Ada Lovelace", "A"),
                                           ("customer.rename", "A", "B")]


async def test_without_redis_reads_go_on_and_mutations_are_unavailable(
    start_gateway: Callable[..., Any], backend: tuple[str, str]
) -> None:
    if backend[1] != "redis":
        pytest.skip("only a Redis-backed gateway can lose its Redis")
    # Nothing listens on port 1: every store call fails at once.
    gw: Gateway = await start_gateway(redis_url="redis://127.0.0.1:1/0")
    tenant = await make_tenant(gw)
    row = await create_subscription(gw, tenant.company)

    read = await tenant.portal("query { portal { subscriptions { status } } }")
    write = await act(tenant, "cancel", str(row.id), key="k-5")
    rename = await tenant.portal(RENAME, {"name": "Mallory"})

    assert read["data"]["portal"]["subscriptions"] == [{"status": "active"}]
    assert error_codes(write) == error_codes(rename) == ["UNAVAILABLE"]
    assert write["_status"] == 503
    assert await status_of(gw, row) == "active"
    assert await audit_actions(tenant) == []
