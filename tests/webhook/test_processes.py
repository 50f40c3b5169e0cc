"""Delivery workers as real processes: killed, doubled, restarted; the database
restarted under them. At least once, never twice at the same time, nothing lost."""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.event.service import EventService, Source
from tests.factories import create_api_key, create_company
from tests.operations.processes import GatewayProcess, base_env, worker_process
from tests.portal.conftest import Tenant, make_tenant
from tests.services import PrivatePostgres, free_port
from tests.support import Gateway
from tests.webhook.support import create_endpoint, deliveries, ids_of, receiver, verified

pytestmark = pytest.mark.slow


def env_of(gw: Gateway, **extra: str) -> dict[str, str]:
    """A process on the in-process gateway's database, with its secrets."""
    values = {"ENVIRONMENT": "test", "DATABASE_URL": gw.settings.database_url,
              "API_KEY_PEPPER": gw.settings.api_key_pepper,
              "PORTAL_SIGNING_SECRETS": ",".join(gw.settings.portal_signing_secrets),
              "WEBHOOK_TIMEOUT_SECONDS": "1", "WEBHOOK_POLL_SECONDS": "0.1",
              "LOG_LEVEL": "INFO"}
    return base_env(**(values | extra))


async def eventually(check: Callable[[], bool], what: str, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not {what} within {seconds} s")
        await asyncio.sleep(0.05)


async def add_events(gw: Gateway, company_id: str, count: int) -> set[str]:
    async with gw.state.session_factory() as session:
        service = EventService(session, gw.clock)
        ids = []
        for index in range(count):
            event = await service.emit(company_id, "customer.updated", Source.merchant_api,
                                       {"index": index})
            ids.append(event.body.split('"id":"', 1)[1].split('"', 1)[0])
        await session.commit()
    return set(ids)


class TestKilled:
    async def test_a_worker_killed_mid_delivery_leaves_it_to_another(
        self, tenant: Tenant, tmp_path: Path
    ) -> None:
        async with receiver(hang_first=1) as recv:
            await create_endpoint(tenant, recv.url)
            await tenant.portal('mutation { updatePortalDisplayName(name: "Ada K") { name } }')
            with worker_process(env_of(tenant.gw), tmp_path / "a.log") as first:
                await eventually(lambda: len(recv.requests) == 1, "attempted by the first")
                first.send_signal(signal.SIGKILL)
                first.wait()
            with worker_process(env_of(tenant.gw), tmp_path / "b.log"):
                # After the first worker's lease (2 x 1 s + 5 s) runs out.
                await eventually(lambda: len(recv.requests) == 2, "delivered by the second")
                await asyncio.sleep(1)

        first_try, delivered = ids_of(recv)
        assert first_try == delivered
        assert len(recv.requests) == 2

    async def test_events_committed_while_no_worker_runs_are_delivered_when_one_starts(
        self, tenant: Tenant, tmp_path: Path
    ) -> None:
        async with receiver() as recv:
            await create_endpoint(tenant, recv.url)
            with worker_process(env_of(tenant.gw), tmp_path / "a.log") as first:
                first.send_signal(signal.SIGKILL)
                first.wait()
            await tenant.portal('mutation { updatePortalDisplayName(name: "Ada K") { name } }')
            expected = await add_events(tenant.gw, tenant.company.id, 5)
            assert recv.requests == []
            with worker_process(env_of(tenant.gw), tmp_path / "b.log"):
                await eventually(lambda: len(recv.requests) == 6, "delivered after restart")

        assert expected < set(ids_of(recv))


class TestRestarted:
    """A serving gateway with the inline worker, killed with SIGKILL after a portal
    action committed and before any delivery succeeded: the next process delivers it,
    once. The event exists only in the database by then (the transaction of the
    change), and leftovers of a dead process are the next one's to send."""

    @pytest.mark.parametrize("killed", ["before_any_attempt", "after_a_failed_attempt"])
    async def test_a_change_committed_before_a_kill_is_delivered_after_restart(
        self, tenant: Tenant, launch: Callable[..., GatewayProcess], killed: str
    ) -> None:
        port = free_port()  # no receiver there yet: attempts are refused
        endpoint_id, secret = await create_endpoint(tenant, f"http://127.0.0.1:{port}/hooks")
        env = env_of(tenant.gw, WEBHOOK_WORKER="inline", WEBHOOK_TIMEOUT_SECONDS="5")
        # Before any attempt: the inline worker looked at startup, next in a minute.
        poll = "60" if killed == "before_any_attempt" else "0.1"
        first = launch(env | {"WEBHOOK_POLL_SECONDS": poll}, "first").start()
        async with httpx.AsyncClient(base_url=first.url, timeout=20) as client:
            named = await client.post("/graphql", headers=tenant.link, json={
                "query": 'mutation { updatePortalDisplayName(name: "Ada K") { name } }'})
        assert named.json() == {"data": {"updatePortalDisplayName": {"name": "Ada K"}}}
        if killed == "after_a_failed_attempt":
            await until_attempted(tenant, endpoint_id)
        first.kill()

        async with receiver(port=port) as recv:
            await asyncio.to_thread(launch(env, "second").start)
            await eventually(lambda: len(recv.requests) == 1, "delivered after restart")
            await asyncio.sleep(1)  # a second delivery would arrive now

        [request] = recv.requests
        payload = verified(secret, request)
        assert (payload["type"], payload["source"]) == ("customer.updated", "portal")
        assert payload["data"]["object"]["name"] == "Ada K"
        statuses = [attempt["statusCode"] for attempt in await deliveries(tenant, endpoint_id)]
        assert statuses.count(200) == 1


async def until_attempted(tenant: Tenant, endpoint_id: str, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while not await deliveries(tenant, endpoint_id):
        if time.monotonic() > deadline:
            raise AssertionError(f"no attempt within {seconds} s")
        await asyncio.sleep(0.05)


class TestTwoWorkers:
    async def test_a_thousand_events_each_delivered_exactly_once(
        self, gw: Gateway, tmp_path: Path
    ) -> None:
        if gw.backend != "postgres":
            pytest.skip("several worker processes share a PostgreSQL database")
        company = await create_company(gw)
        tenant = Tenant(gw, company, None, await create_api_key(gw, company.id), {})  # type: ignore[arg-type]
        async with receiver() as recv:
            await create_endpoint(tenant, recv.url)
            expected = await add_events(gw, company.id, 1000)
            with worker_process(env_of(gw), tmp_path / "a.log", concurrency=8), \
                    worker_process(env_of(gw), tmp_path / "b.log", concurrency=8):
                await eventually(lambda: len(recv.requests) >= 1000, "all delivered", 120)
                await asyncio.sleep(1)  # a duplicate would arrive now

        assert len(recv.requests) == 1000
        assert set(ids_of(recv)) == expected


class TestOutages:
    async def test_postgres_restarted_during_delivery_and_no_redis_lose_nothing(
        self, start_gateway: Callable[..., Any], private_postgres: PrivatePostgres,
        tmp_path: Path
    ) -> None:
        gw: Gateway = await start_gateway(database_url=private_postgres.url)
        if gw.backend != "postgres":
            pytest.skip("one run is enough: the database is the private PostgreSQL")
        tenant = await make_tenant(gw, "Outage")
        async with receiver(delay=0.05) as recv:
            await create_endpoint(tenant, recv.url)
            expected = await add_events(gw, tenant.company.id, 60)
            await gw.state.engine.dispose()
            # The worker never needs Redis: one that cannot be reached changes nothing.
            with worker_process(env_of(gw, REDIS_URL=f"redis://127.0.0.1:{free_port()}/0"),
                                tmp_path / "w.log", concurrency=2):
                await eventually(lambda: len(recv.requests) >= 10, "started delivering")
                await asyncio.to_thread(private_postgres.stop)
                await asyncio.sleep(2)
                await asyncio.to_thread(private_postgres.start)
                await eventually(lambda: expected <= set(ids_of(recv)), "all delivered", 90)

        assert expected == set(ids_of(recv))

