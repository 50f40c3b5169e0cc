"""Delivery (contract section 10): signed, retried on schedule, never to a private
address in production. Real receivers on loopback; signatures checked with the
standardwebhooks library, independently of the gateway's own signing."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

import pytest
from standardwebhooks.webhooks import Webhook

from gateway.webhook.worker import RETRY_SCHEDULE_SECONDS
from tests.factories import create_api_key, create_company, create_subscription
from tests.portal.conftest import Tenant, make_tenant
from tests.support import Gateway
from tests.webhook.support import (
    create_endpoint,
    deliveries,
    receiver,
    verified,
    worker_for,
)

ACT = """mutation($id: ID!, $key: String) {{
  {action}Subscription(subscriptionId: $id, idempotencyKey: $key) {{ id status }}
}}"""


class TestEveryChangeArrivesSigned:
    async def test_each_change_reaches_the_receiver_once_with_a_valid_signature(
        self, tenant: Tenant
    ) -> None:
        gw = tenant.gw
        sub = await create_subscription(gw, tenant.company)
        async with receiver() as recv, worker_for(gw) as worker:
            _, secret = await create_endpoint(tenant, recv.url)
            for action in ("pause", "reactivate", "cancel"):
                await tenant.portal(ACT.format(action=action), {"id": str(sub.id), "key": action})
            # A replay of a portal action with its idempotency key acts once.
            await tenant.portal(ACT.format(action="pause"), {"id": str(sub.id), "key": "pause"})
            await tenant.portal('mutation { updatePortalDisplayName(name: "Ada K") { name } }')
            await gw.gql_data('mutation($id: ID!) { updateCustomer(customerId: $id, '
                              'input: {clientId: "c9"}) { id } }', {"id": tenant.customer.uid},
                              tenant.api_key)
            await gw.gql_data("mutation($id: ID!) { createPortalLink(customerId: $id) "
                              "{ expiresAt } }", {"id": tenant.customer.uid}, tenant.api_key)
            await gw.gql_data("mutation($id: ID!) { revokePortalLinks(customerId: $id) "
                              "{ revokedBefore } }", {"id": tenant.customer.uid}, tenant.api_key)

            await worker.drain()
            await worker.drain()  # nothing left: nothing sent twice

        payloads = [verified(secret, request) for request in recv.requests]
        assert sorted(p["type"] for p in payloads) == sorted([
            "subscription.paused", "subscription.reactivated", "subscription.cancelled",
            "customer.updated", "customer.updated", "portal_link.created",
            "portal_links.revoked"])
        assert len({p["id"] for p in payloads}) == len(payloads)
        for request, payload in zip(recv.requests, payloads, strict=True):
            assert request.headers["webhook-id"] == payload["id"]
            assert request.headers["content-type"] == "application/json"
            assert payload["companyId"] == tenant.company.id
        cancelled = next(p for p in payloads if p["type"] == "subscription.cancelled")
        assert cancelled["source"] == "portal"
        assert cancelled["data"]["object"]["status"] == "cancelled"
        assert cancelled["data"]["previous"] == {"status": "active"}
        assert cancelled == json.loads(next(r.body for r in recv.requests
                                            if r.headers["webhook-id"] == cancelled["id"]))

    async def test_only_the_subscribed_types_are_sent(self, tenant: Tenant) -> None:
        sub = await create_subscription(tenant.gw, tenant.company)
        async with receiver() as recv, worker_for(tenant.gw) as worker:
            await create_endpoint(tenant, recv.url, eventTypes=["subscription.paused"])
            await tenant.portal('mutation { updatePortalDisplayName(name: "Ada K") { name } }')
            await tenant.portal(ACT.format(action="pause"), {"id": str(sub.id)})
            await worker.drain()

        assert [json.loads(r.body)["type"] for r in recv.requests] == ["subscription.paused"]

    async def test_a_company_never_receives_another_companys_events(self, gw: Gateway) -> None:
        a = await make_tenant(gw, "A")
        b = await make_tenant(gw, "B")
        async with receiver() as recv_a, receiver() as recv_b, worker_for(gw) as worker:
            await create_endpoint(a, recv_a.url)
            await create_endpoint(b, recv_b.url)
            await b.portal('mutation { updatePortalDisplayName(name: "Bee") { name } }')
            await worker.drain()

        assert recv_a.requests == []
        assert [json.loads(r.body)["companyId"] for r in recv_b.requests] == [b.company.id]

    async def test_an_endpoint_hears_nothing_from_before_its_creation(
        self, tenant: Tenant
    ) -> None:
        async with receiver() as recv, worker_for(tenant.gw) as worker:
            await tenant.portal('mutation { updatePortalDisplayName(name: "Before") { name } }')
            tenant.gw.clock.advance(1)
            await create_endpoint(tenant, recv.url)
            await tenant.portal('mutation { updatePortalDisplayName(name: "After") { name } }')
            await worker.drain()

        names = [json.loads(r.body)["data"]["object"]["name"] for r in recv.requests]
        assert names == ["After"]

    async def test_a_disabled_endpoint_gets_nothing(self, tenant: Tenant) -> None:
        async with receiver() as recv, worker_for(tenant.gw) as worker:
            endpoint_id, _ = await create_endpoint(tenant, recv.url)
            await tenant.gw.gql_data(
                "mutation($id: ID!) { updateWebhookEndpoint(id: $id, input: {enabled: false}) "
                "{ id } }", {"id": endpoint_id}, tenant.api_key)
            await tenant.portal('mutation { updatePortalDisplayName(name: "Ada K") { name } }')
            await worker.drain()

        assert recv.requests == []


class TestRetries:
    async def test_a_500_is_retried_on_schedule_and_the_log_shows_both(
        self, tenant: Tenant
    ) -> None:
        gw = tenant.gw
        async with receiver(statuses=[500, 200]) as recv, worker_for(gw) as worker:
            endpoint_id, _secret = await create_endpoint(tenant, recv.url)
            await tenant.portal('mutation { updatePortalDisplayName(name: "Ada K") { name } }')
            await worker.drain()
            assert len(recv.requests) == 1
            [failed] = await deliveries(tenant, endpoint_id)
            wait = _seconds_until(failed["nextAttemptAt"], gw)
            assert RETRY_SCHEDULE_SECONDS[0] - 1 <= wait <= RETRY_SCHEDULE_SECONDS[0] * 1.1 + 1

            await worker.drain()  # not due yet
            assert len(recv.requests) == 1
            gw.clock.advance(RETRY_SCHEDULE_SECONDS[0] * 1.1 + 0.1)
            await worker.drain()

        assert len(recv.requests) == 2
        first, second = recv.requests
        assert first.headers["webhook-id"] == second.headers["webhook-id"]
        log = await deliveries(tenant, endpoint_id)
        assert [(d["number"], d["statusCode"]) for d in log] == [(2, 200), (1, 500)]
        assert log[0]["nextAttemptAt"] is None
        assert log[1]["error"] == "HTTP 500"
        assert log[1]["responseBody"] == "ok"

    async def test_the_schedule_ends_in_failed_after_eight_attempts(self, tenant: Tenant) -> None:
        gw = tenant.gw
        async with receiver(statuses=[503]) as recv, worker_for(gw) as worker:
            endpoint_id, _ = await create_endpoint(tenant, recv.url)
            await tenant.portal('mutation { updatePortalDisplayName(name: "Ada K") { name } }')
            await worker.drain()
            for wait in RETRY_SCHEDULE_SECONDS:
                gw.clock.advance(wait * 0.9)
                await worker.drain()  # before the earliest jittered time: nothing
                gw.clock.advance(wait * 0.2 + 1)
                await worker.drain()
            gw.clock.advance(86400)
            await worker.drain()

        assert len(recv.requests) == 1 + len(RETRY_SCHEDULE_SECONDS)
        log = await deliveries(tenant, endpoint_id)
        assert [d["number"] for d in log] == list(range(8, 0, -1))
        assert log[0]["nextAttemptAt"] is None
        assert all(d["nextAttemptAt"] is not None for d in log[1:])

    async def test_a_silent_receiver_times_out_and_five_days_of_failures_disable_it(
        self, start_gateway: Any
    ) -> None:
        gw = await start_gateway(webhook_timeout_seconds=0.3)
        tenant = await make_tenant(gw)
        async with receiver(hang=True) as recv, worker_for(gw) as worker:
            endpoint_id, _ = await create_endpoint(tenant, recv.url)
            test = "mutation($id: ID!) { sendTestWebhook(endpointId: $id) { id } }"
            await gw.gql_data(test, {"id": endpoint_id}, tenant.api_key)
            await worker.drain()
            [timed_out] = await deliveries(tenant, endpoint_id)
            assert timed_out["statusCode"] is None
            assert timed_out["error"].startswith("timed out")

            for _day in range(5):
                gw.clock.advance(86400)
                await gw.gql_data(test, {"id": endpoint_id}, tenant.api_key)
                await worker.drain()
            gw.clock.advance(3600)
            await worker.drain()

            endpoint = await _endpoint(tenant, endpoint_id)
            assert endpoint["enabled"] is False
            assert "5 days" in endpoint["disabledReason"]
            sent = len(recv.requests)
            gw.clock.advance(86400)
            await tenant.portal('mutation { updatePortalDisplayName(name: "Ada K") { name } }',
                                link=_fresh_link(tenant))
            await worker.drain()
            assert len(recv.requests) == sent  # disabled: nothing more

    async def test_a_slowloris_answer_is_cut_at_the_timeout(self, start_gateway: Any) -> None:
        gw = await start_gateway(webhook_timeout_seconds=0.5)
        tenant = await make_tenant(gw)
        async with receiver(dribble=True) as recv, worker_for(gw) as worker:
            endpoint_id, _ = await create_endpoint(tenant, recv.url)
            await tenant.portal('mutation { updatePortalDisplayName(name: "Ada K") { name } }')
            await worker.drain()

        [attempt] = await deliveries(tenant, endpoint_id)
        assert attempt["error"] == "timed out after 0.5 s"
        assert attempt["nextAttemptAt"] is not None

    async def test_after_a_timed_out_attempt_the_same_slot_delivers_again(
        self, start_gateway: Any
    ) -> None:
        gw = await start_gateway(webhook_timeout_seconds=0.5)
        tenant = await make_tenant(gw)
        async with receiver(hang_first=1) as recv, worker_for(gw, concurrency=1) as worker:
            endpoint_id, _ = await create_endpoint(tenant, recv.url)
            await tenant.portal('mutation { updatePortalDisplayName(name: "Ada K") { name } }')
            await worker.drain()
            gw.clock.advance(RETRY_SCHEDULE_SECONDS[0] * 1.1 + 0.1)
            await worker.drain()

        assert len(recv.requests) == 2
        log = await deliveries(tenant, endpoint_id)
        assert [(d["number"], d["statusCode"]) for d in log] == [(2, 200), (1, None)]
        assert log[1]["error"] == "timed out after 0.5 s"

    async def test_a_receiver_that_never_completes_tls_is_cut_at_the_timeout(
        self, start_gateway: Any
    ) -> None:
        gw = await start_gateway(webhook_timeout_seconds=0.5)
        tenant = await make_tenant(gw)
        received: list[bytes] = []
        hung_up = asyncio.Event()

        async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            received.append(await reader.read())  # the ClientHello, then until the worker hangs up
            hung_up.set()
            writer.close()

        server = await asyncio.start_server(silent, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        try:
            async with worker_for(gw) as worker:
                endpoint_id, _ = await create_endpoint(tenant, f"https://127.0.0.1:{port}/hooks")
                await tenant.portal('mutation { updatePortalDisplayName(name: "Ada K") { name } }')
                await worker.drain()
                # Closed with the attempt, while the worker (and its sessions) still runs.
                await asyncio.wait_for(hung_up.wait(), 10)
        finally:
            server.close()

        [attempt] = await deliveries(tenant, endpoint_id)
        assert attempt["error"] == "timed out after 0.5 s"
        assert attempt["statusCode"] is None
        assert received[0].startswith(b"\x16\x03")  # a TLS handshake record, unanswered

    async def test_outcomes_are_counted_in_the_metrics(self, tenant: Tenant) -> None:
        def delivered(text: str) -> float:
            found = re.search(r'^gateway_webhook_deliveries_total\{outcome="delivered"\} (\S+)$',
                              text, re.MULTILINE)
            return float(found.group(1)) if found else 0.0

        before = delivered((await tenant.gw.client.get("/metrics")).text)
        async with receiver() as recv, worker_for(tenant.gw) as worker:
            await create_endpoint(tenant, recv.url)
            await tenant.portal('mutation { updatePortalDisplayName(name: "Ada K") { name } }')
            await worker.drain()
        after = (await tenant.gw.client.get("/metrics")).text

        assert delivered(after) == before + 1
        assert "gateway_webhook_delivery_duration_seconds_count" in after

    async def test_a_redirect_is_not_followed(self, tenant: Tenant) -> None:
        async with receiver(statuses=[302]) as recv, worker_for(tenant.gw) as worker:
            endpoint_id, _ = await create_endpoint(tenant, recv.url)
            await tenant.portal('mutation { updatePortalDisplayName(name: "Ada K") { name } }')
            await worker.drain()

        assert len(recv.requests) == 1
        [attempt] = await deliveries(tenant, endpoint_id)
        assert attempt["statusCode"] == 302
        assert attempt["nextAttemptAt"] is not None

    async def test_only_4_kb_of_the_answer_is_kept(self, tenant: Tenant) -> None:
        async with receiver(answer=b"x" * 100_000) as recv, worker_for(tenant.gw) as worker:
            endpoint_id, _ = await create_endpoint(tenant, recv.url)
            await tenant.portal('mutation { updatePortalDisplayName(name: "Ada K") { name } }')
            await worker.drain()

        [attempt] = await deliveries(tenant, endpoint_id)
        assert attempt["statusCode"] == 200
        assert attempt["responseBody"] == "x" * 4096


class TestRotation:
    async def test_both_secrets_sign_for_24_hours_then_only_the_new_one(
        self, tenant: Tenant
    ) -> None:
        gw = tenant.gw
        async with receiver() as recv, worker_for(gw) as worker:
            endpoint_id, old = await create_endpoint(tenant, recv.url)
            rotated = await gw.gql_data(
                "mutation($id: ID!) { rotateWebhookSecret(id: $id) { secret } }",
                {"id": endpoint_id}, tenant.api_key)
            new = rotated["rotateWebhookSecret"]["secret"]
            await tenant.portal('mutation { updatePortalDisplayName(name: "One") { name } }')
            await worker.drain()
            gw.clock.advance(24 * 3600 + 1)
            await tenant.portal('mutation { updatePortalDisplayName(name: "Two") { name } }',
                                link=_fresh_link(tenant))
            await worker.drain()

        during, after = recv.requests
        assert len(during.headers["webhook-signature"].split(" ")) == 2
        assert verified(old, during)["type"] == verified(new, during)["type"]
        assert len(after.headers["webhook-signature"].split(" ")) == 1
        # The clock moved a day: the library's freshness check is not what is tested here.
        stamp = int(after.headers["webhook-timestamp"])
        expected = Webhook(new).sign(after.headers["webhook-id"], _at(stamp),
                                     after.body.decode())
        assert after.headers["webhook-signature"] == expected


class TestReplay:
    async def test_redeliver_sends_the_same_event_again(self, tenant: Tenant) -> None:
        async with receiver() as recv, worker_for(tenant.gw) as worker:
            endpoint_id, secret = await create_endpoint(tenant, recv.url)
            await tenant.portal('mutation { updatePortalDisplayName(name: "Ada K") { name } }')
            await worker.drain()
            event_id = recv.requests[0].headers["webhook-id"]
            await tenant.gw.gql_data(
                "mutation($e: ID!, $w: ID!) { redeliverEvent(eventId: $e, endpointId: $w) "
                "{ id } }", {"e": event_id, "w": endpoint_id}, tenant.api_key)
            await worker.drain()

        assert [r.headers["webhook-id"] for r in recv.requests] == [event_id, event_id]
        assert verified(secret, recv.requests[1])["id"] == event_id
        assert [d["number"] for d in await deliveries(tenant, endpoint_id)] == [2, 1]

    async def test_a_test_webhook_goes_to_that_endpoint_alone(self, tenant: Tenant) -> None:
        async with receiver() as one, receiver() as two, worker_for(tenant.gw) as worker:
            endpoint_id, secret = await create_endpoint(tenant, one.url)
            await create_endpoint(tenant, two.url)
            await tenant.gw.gql_data(
                "mutation($id: ID!) { sendTestWebhook(endpointId: $id) { id type } }",
                {"id": endpoint_id}, tenant.api_key)
            await worker.drain()

        assert [verified(secret, r)["type"] for r in one.requests] == ["webhook.test"]
        assert two.requests == []

    async def test_another_company_cannot_redeliver_the_events(self, tenant: Tenant) -> None:
        async with receiver() as recv, worker_for(tenant.gw) as worker:
            endpoint_id, _ = await create_endpoint(tenant, recv.url)
            await tenant.portal('mutation { updatePortalDisplayName(name: "Ada K") { name } }')
            await worker.drain()
            event_id = recv.requests[0].headers["webhook-id"]
            other = await make_tenant(tenant.gw, "Other")
            other_endpoint, _ = await create_endpoint(other, recv.url)

            for ids in ({"e": event_id, "w": other_endpoint}, {"e": event_id, "w": endpoint_id}):
                response = await tenant.gw.gql(
                    "mutation($e: ID!, $w: ID!) { redeliverEvent(eventId: $e, endpointId: $w) "
                    "{ id } }", ids, other.api_key)
                assert response.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"
            await worker.drain()

        assert len(recv.requests) == 1


class TestPrivateTargets:
    @pytest.mark.parametrize("host", ["127.0.0.1", "10.0.0.1", "169.254.169.254", "[::1]",
                                      "localhost"])
    async def test_production_never_connects_to_a_private_address(
        self, start_gateway: Any, host: str
    ) -> None:
        gw = await start_gateway(environment="production", webhook_timeout_seconds=2)
        company = await create_company(gw)
        tenant = Tenant(gw, company, None, await create_api_key(gw, company), {})  # type: ignore[arg-type]
        async with receiver() as recv, worker_for(gw) as worker:
            port = recv.port if host in ("127.0.0.1", "localhost") else 443
            endpoint_id, _ = await create_endpoint(tenant, f"https://{host}:{port}/hooks")
            await gw.gql_data("mutation($id: ID!) { sendTestWebhook(endpointId: $id) { id } }",
                              {"id": endpoint_id}, tenant.api_key)
            await worker.drain()

        [attempt] = await deliveries(tenant, endpoint_id)
        assert attempt["statusCode"] is None
        assert attempt["error"].startswith("refused:"), attempt["error"]
        assert recv.requests == []

    async def test_allowing_private_targets_lifts_the_guard(self, start_gateway: Any) -> None:
        gw = await start_gateway(environment="production", webhook_allow_private_targets=True,
                                 webhook_timeout_seconds=2)
        company = await create_company(gw)
        tenant = Tenant(gw, company, None, await create_api_key(gw, company), {})  # type: ignore[arg-type]
        async with receiver() as recv, worker_for(gw) as worker:
            endpoint_id, _ = await create_endpoint(tenant, f"https://127.0.0.1:{recv.port}/")
            await gw.gql_data("mutation($id: ID!) { sendTestWebhook(endpointId: $id) { id } }",
                              {"id": endpoint_id}, tenant.api_key)
            await worker.drain()

        [attempt] = await deliveries(tenant, endpoint_id)
        # It connected (the plain-HTTP receiver cannot speak TLS): not refused.
        assert not attempt["error"].startswith("refused:")


class TestInline:
    async def test_a_serving_gateway_with_an_inline_worker_delivers_by_itself(
        self, start_gateway: Any
    ) -> None:
        gw = await start_gateway(webhook_worker="inline", webhook_poll_seconds=0.05)
        tenant = await make_tenant(gw)
        async with receiver() as recv:
            _, secret = await create_endpoint(tenant, recv.url)
            await tenant.portal('mutation { updatePortalDisplayName(name: "Ada K") { name } }')
            for _ in range(200):
                if recv.requests:
                    break
                await asyncio.sleep(0.05)

        assert [verified(secret, r)["type"] for r in recv.requests] == ["customer.updated"]


async def _endpoint(tenant: Tenant, endpoint_id: str) -> dict[str, Any]:
    data = await tenant.gw.gql_data(
        "{ webhookEndpoints(first: 100) { edges { node { id enabled disabledReason } } } }",
        None, tenant.api_key)
    node: dict[str, Any] = next(e["node"] for e in data["webhookEndpoints"]["edges"]
                                if e["node"]["id"] == endpoint_id)
    return node


def _fresh_link(tenant: Tenant) -> dict[str, str]:
    from tests.portal.conftest import link_header

    return link_header(tenant.gw, tenant.company.id, tenant.customer.uid)


def _seconds_until(iso: str, gw: Gateway) -> float:
    from gateway.kit.time import parse_iso

    return (parse_iso(iso) - gw.clock.now()).total_seconds()


def _at(stamp: int) -> Any:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(stamp, UTC)
