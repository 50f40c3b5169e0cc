"""The portal's subscription actions under the merchant's settings (contract section
11): the pause toggle, cancellation at the period end and its worker, reasons and
comments; and that no setting takes cancel away."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
import pytest
from sqlalchemy import select

from gateway.models import Subscription
from gateway.subscription.period_end import end_due_periods
from tests.event.test_events import events
from tests.factories import create_subscription
from tests.portal.conftest import Tenant, link_header, make_tenant
from tests.support import Gateway, error_codes
from tests.webhook.support import create_endpoint, receiver, worker_for

FIELDS = "id status cancelAtPeriodEnd cancellationReason cancellationComment currentPeriodEnd"
ACT = f"""mutation($id: ID!) {{ {{action}}Subscription(subscriptionId: $id) {{ {FIELDS} }} }}"""
CANCEL = f"""mutation($id: ID!, $reason: String, $comment: String, $key: String) {{
  cancelSubscription(subscriptionId: $id, reason: $reason, comment: $comment,
                     idempotencyKey: $key) {{ {FIELDS} }} }}"""
SETTINGS = """mutation($input: PortalSettingsInput!) {
  updatePortalSettings(input: $input) { pauseEnabled } }"""
LISTED = f"{{ portal {{ subscriptions {{ {FIELDS} }} }} }}"
AUDIT = "{ auditEvents { edges { node { action stateBefore stateAfter details } } } }"


def act(action: str) -> str:
    return ACT.replace("{action}", action)


async def configure(tenant: Tenant, **settings: Any) -> None:
    await tenant.gw.gql_data(SETTINGS, {"input": settings}, tenant.api_key)


async def stored(gw: Gateway, sub_id: Any) -> Subscription:
    async with gw.state.session_factory() as session:
        row = await session.get(Subscription, sub_id)
        assert row is not None
        return row


@pytest.fixture
async def tenant(gw: Gateway) -> Tenant:
    return await make_tenant(gw)


class TestPauseToggle:
    async def test_pause_off_is_forbidden_with_a_clear_message(self, tenant: Tenant) -> None:
        await configure(tenant, pauseEnabled=False)
        sub = await create_subscription(tenant.gw, tenant.company)
        body = await tenant.portal(act("pause"), {"id": str(sub.id)})
        assert error_codes(body) == ["FORBIDDEN"]
        assert "pausing" in body["errors"][0]["message"]
        assert (await stored(tenant.gw, sub.id)).status == "active"
        assert await events(tenant) == []

    async def test_a_paused_subscription_can_still_be_reactivated(self, tenant: Tenant) -> None:
        sub = await create_subscription(tenant.gw, tenant.company, status="paused")
        await configure(tenant, pauseEnabled=False)
        body = await tenant.portal(act("reactivate"), {"id": str(sub.id)})
        assert body["data"]["reactivateSubscription"]["status"] == "active"

    async def test_pause_on_again_allows_it(self, tenant: Tenant) -> None:
        await configure(tenant, pauseEnabled=False)
        await configure(tenant, pauseEnabled=None)  # null restores the default: on
        sub = await create_subscription(tenant.gw, tenant.company)
        body = await tenant.portal(act("pause"), {"id": str(sub.id)})
        assert body["data"]["pauseSubscription"]["status"] == "paused"


class TestCancelAtPeriodEnd:
    @pytest.mark.parametrize("status", ["active", "trialing"])
    async def test_cancel_keeps_the_status_and_sets_the_flag(
        self, tenant: Tenant, status: str
    ) -> None:
        await configure(tenant, cancellationMode="AT_PERIOD_END")
        sub = await create_subscription(tenant.gw, tenant.company, status=status)
        body = await tenant.portal(CANCEL, {"id": str(sub.id)})
        result = body["data"]["cancelSubscription"]
        assert (result["status"], result["cancelAtPeriodEnd"]) == (status, True)
        listed = (await tenant.portal(LISTED))["data"]["portal"]["subscriptions"]
        assert listed == [result]
        [event] = await events(tenant)
        assert event["type"] == "subscription.updated"
        assert event["payload"]["data"]["object"]["cancelAtPeriodEnd"] is True
        assert event["payload"]["data"]["previous"] == {"status": status,
                                                         "cancelAtPeriodEnd": False}

    async def test_reactivate_keeps_it(self, tenant: Tenant) -> None:
        await configure(tenant, cancellationMode="AT_PERIOD_END")
        sub = await create_subscription(tenant.gw, tenant.company)
        await tenant.portal(CANCEL, {"id": str(sub.id), "reason": "unused"})
        body = await tenant.portal(act("reactivate"), {"id": str(sub.id)})
        result = body["data"]["reactivateSubscription"]
        assert (result["status"], result["cancelAtPeriodEnd"]) == ("active", False)
        assert result["cancellationReason"] is None
        kept, _scheduled = await events(tenant)
        assert kept["type"] == "subscription.updated"
        assert kept["payload"]["data"]["previous"] == {"status": "active",
                                                      "cancelAtPeriodEnd": True}

    @pytest.mark.parametrize("action", ["pause", "cancel"])
    async def test_pausing_or_cancelling_again_is_a_conflict(
        self, tenant: Tenant, action: str
    ) -> None:
        await configure(tenant, cancellationMode="AT_PERIOD_END")
        sub = await create_subscription(tenant.gw, tenant.company)
        await tenant.portal(CANCEL, {"id": str(sub.id)})
        body = await tenant.portal(act(action), {"id": str(sub.id)})
        assert error_codes(body) == ["SUBSCRIPTION_STATE_CONFLICT"]
        assert body["errors"][0]["extensions"]["currentStatus"] == "active"
        assert body["errors"][0]["extensions"]["cancelAtPeriodEnd"] is True
        row = await stored(tenant.gw, sub.id)
        assert (row.status, row.cancel_at_period_end) == ("active", True)

    @pytest.mark.parametrize("status", ["past_due", "unpaid", "paused"])
    async def test_other_states_cancel_at_once(self, tenant: Tenant, status: str) -> None:
        await configure(tenant, cancellationMode="AT_PERIOD_END")
        sub = await create_subscription(tenant.gw, tenant.company, status=status)
        result = (await tenant.portal(CANCEL, {"id": str(sub.id)}))["data"]["cancelSubscription"]
        assert (result["status"], result["cancelAtPeriodEnd"]) == ("cancelled", False)

    async def test_immediately_again_cancels_one_set_to_end_at_once(self, tenant: Tenant) -> None:
        await configure(tenant, cancellationMode="AT_PERIOD_END")
        sub = await create_subscription(tenant.gw, tenant.company)
        await tenant.portal(CANCEL, {"id": str(sub.id)})
        await configure(tenant, cancellationMode="IMMEDIATELY")
        result = (await tenant.portal(CANCEL, {"id": str(sub.id)}))["data"]["cancelSubscription"]
        assert (result["status"], result["cancelAtPeriodEnd"]) == ("cancelled", False)


class TestPeriodEnd:
    async def test_nothing_happens_before_the_period_end(self, tenant: Tenant) -> None:
        await configure(tenant, cancellationMode="AT_PERIOD_END")
        sub = await create_subscription(tenant.gw, tenant.company)
        await tenant.portal(CANCEL, {"id": str(sub.id)})
        tenant.gw.clock.advance(29 * 86400)  # a month's period is 30 days
        assert await end_due_periods(tenant.gw.state.session_factory, tenant.gw.clock) == 0
        assert (await stored(tenant.gw, sub.id)).status == "active"

    async def test_two_workers_cancel_it_exactly_once_with_a_system_event(
        self, tenant: Tenant
    ) -> None:
        gw = tenant.gw
        await configure(tenant, cancellationMode="AT_PERIOD_END")
        subs = [await create_subscription(gw, tenant.company) for _ in range(3)]
        for sub in subs:
            await tenant.portal(CANCEL, {"id": str(sub.id), "reason": "too_expensive"})
        gw.clock.advance(30 * 86400 + 1)

        counts = await asyncio.gather(*(end_due_periods(gw.state.session_factory, gw.clock)
                                        for _ in range(2)))
        assert sum(counts) == 3
        assert await end_due_periods(gw.state.session_factory, gw.clock) == 0

        for sub in subs:
            row = await stored(gw, sub.id)
            assert (row.status, row.cancel_at_period_end) == ("cancelled", False)
            assert row.cancellation_reason == "too_expensive"
        ended = [e for e in await events(tenant) if e["type"] == "subscription.cancelled"]
        assert len(ended) == 3
        assert {e["payload"]["data"]["object"]["id"] for e in ended} == {str(s.id) for s in subs}
        for event in ended:
            assert event["source"] == "system"
            assert event["payload"]["data"]["object"]["customerId"] == str(tenant.customer.id)
            assert event["payload"]["data"]["object"]["cancellationReason"] == "too_expensive"
            assert event["payload"]["data"]["previous"] == {"status": "active",
                                                            "cancelAtPeriodEnd": True}
        # The page, with a link issued now, shows it cancelled.
        link = link_header(gw, tenant.company.id, tenant.customer.uid)
        listed = (await tenant.portal(LISTED, link=link))["data"]["portal"]["subscriptions"]
        assert {s["status"] for s in listed} == {"cancelled"}

    async def test_a_kept_subscription_is_not_cancelled(self, tenant: Tenant) -> None:
        await configure(tenant, cancellationMode="AT_PERIOD_END")
        sub = await create_subscription(tenant.gw, tenant.company)
        await tenant.portal(CANCEL, {"id": str(sub.id)})
        await tenant.portal(act("reactivate"), {"id": str(sub.id)})
        tenant.gw.clock.advance(31 * 86400)
        assert await end_due_periods(tenant.gw.state.session_factory, tenant.gw.clock) == 0
        assert (await stored(tenant.gw, sub.id)).status == "active"

    async def test_the_delivery_worker_runs_it_and_delivers_the_event(self, tenant: Tenant) -> None:
        gw = tenant.gw
        await configure(tenant, cancellationMode="AT_PERIOD_END")
        sub = await create_subscription(gw, tenant.company)
        async with receiver() as hooks:
            await create_endpoint(tenant, hooks.url, eventTypes=["subscription.cancelled"])
            await tenant.portal(CANCEL, {"id": str(sub.id), "reason": "switched_service",
                                         "comment": "Found a cheaper plan"})
            gw.clock.advance(30 * 86400 + 1)
            async with worker_for(gw) as worker:
                await worker.drain()
            [received] = hooks.requests
        body = orjson.loads(received.body)
        assert (body["type"], body["source"]) == ("subscription.cancelled", "system")
        assert body["data"]["object"]["cancellationReason"] == "switched_service"
        assert body["data"]["object"]["cancellationComment"] == "Found a cheaper plan"


class TestReasons:
    async def test_reason_and_comment_are_kept_audited_and_in_the_event(
        self, tenant: Tenant
    ) -> None:
        sub = await create_subscription(tenant.gw, tenant.company)
        body = await tenant.portal(CANCEL, {"id": str(sub.id), "reason": "missing_features",
                                            "comment": "  Needs an API for invoices.  "})
        result = body["data"]["cancelSubscription"]
        assert result["cancellationReason"] == "missing_features"
        assert result["cancellationComment"] == "Needs an API for invoices."
        row = await stored(tenant.gw, sub.id)
        assert (row.cancellation_reason, row.cancellation_comment) == (
            "missing_features", "Needs an API for invoices.")
        audit = await tenant.gw.gql_data(AUDIT, headers=tenant.api_key)
        [entry] = [edge["node"] for edge in audit["auditEvents"]["edges"]]
        assert entry["details"] == {"reason": "missing_features",
                                    "comment": "Needs an API for invoices."}
        [event] = await events(tenant)
        assert event["payload"]["data"]["object"]["cancellationReason"] == "missing_features"

    @pytest.mark.parametrize(("variables", "field"), [
        ({"reason": "too_complex"}, "reason"),  # not offered (below)
        ({"reason": "bored"}, "reason"),
        ({"comment": "x" * 501}, "comment"),
        ({"comment": "fine\u202etxt.exe"}, "comment"),
        ({"comment": "line\u2028break"}, "comment"),
        ({"comment": "bell\x07"}, "comment"),
    ])
    async def test_invalid_reason_or_comment_is_bad_request_and_changes_nothing(
        self, tenant: Tenant, variables: dict[str, str], field: str
    ) -> None:
        await configure(tenant, cancellationReasons=["too_expensive", "other"])
        sub = await create_subscription(tenant.gw, tenant.company)
        body = await tenant.portal(CANCEL, {"id": str(sub.id), **variables})
        assert error_codes(body) == ["BAD_REQUEST"]
        assert body["errors"][0]["extensions"]["field"] == field
        assert (await stored(tenant.gw, sub.id)).status == "active"
        assert await events(tenant) == []

    async def test_no_reasons_configured_asks_none_and_refuses_one(self, tenant: Tenant) -> None:
        await configure(tenant, cancellationReasons=[])
        sub = await create_subscription(tenant.gw, tenant.company)
        refused = await tenant.portal(CANCEL, {"id": str(sub.id), "reason": "other"})
        assert error_codes(refused) == ["BAD_REQUEST"]
        body = await tenant.portal(CANCEL, {"id": str(sub.id)})
        assert body["data"]["cancelSubscription"]["status"] == "cancelled"

    async def test_an_idempotency_key_reused_with_another_reason_is_refused(
        self, tenant: Tenant
    ) -> None:
        sub = await create_subscription(tenant.gw, tenant.company)
        first = await tenant.portal(CANCEL, {"id": str(sub.id), "reason": "unused", "key": "k1"})
        again = await tenant.portal(CANCEL, {"id": str(sub.id), "reason": "unused", "key": "k1"})
        other = await tenant.portal(CANCEL, {"id": str(sub.id), "reason": "other", "key": "k1"})
        assert again["data"] == first["data"]
        assert error_codes(other) == ["IDEMPOTENCY_KEY_REUSED"]


@pytest.mark.parametrize("status", ["active", "trialing", "past_due", "unpaid", "paused"])
async def test_no_setting_takes_cancel_away(gw: Gateway, status: str) -> None:
    """Legal: under the most restrictive settings a customer can still cancel."""
    tenant = await make_tenant(gw)
    await configure(tenant, pauseEnabled=False, cancellationMode="AT_PERIOD_END",
                    cancellationReasons=[])
    sub = await create_subscription(gw, tenant.company, status=status)
    result = (await tenant.portal(CANCEL, {"id": str(sub.id)}))["data"]["cancelSubscription"]
    assert result["status"] == "cancelled" or result["cancelAtPeriodEnd"] is True
    async with gw.state.session_factory() as session:
        rows = (await session.execute(select(Subscription))).scalars().all()
    assert len(rows) == 1
