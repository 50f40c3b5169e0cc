"""Webhook scenarios: endpoints for the pause/reactivate scenario's companies, and
the delivery scenario (pending events delivered to a local receiver by one worker)."""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from dataclasses import dataclass

import asyncpg
import orjson

from bench.server import ROOT, free_port
from gateway.config import Settings
from gateway.db import create_engine, create_session_factory
from gateway.event.ids import new_event_ids
from gateway.kit import loop
from gateway.kit.collector import settle_after_startup
from gateway.kit.time import SystemClock, iso_ms
from gateway.webhook.service import WebhookEndpointService
from gateway.webhook.worker import DeliveryWorker


def settings_for(db_url: str, pepper: str, concurrency: int = 32) -> Settings:
    return Settings(database_url=db_url, environment="test", api_key_pepper=pepper,
                    webhook_allow_private_targets=True, webhook_concurrency=concurrency)


async def add_endpoints(settings: Settings, company_ids: list[str], url: str) -> None:
    """One endpoint, subscribed to every type, per company."""
    engine = create_engine(settings)
    try:
        async with create_session_factory(engine)() as session:
            service = WebhookEndpointService(session, SystemClock(), settings)
            for company_id in company_ids:
                await service.create(company_id, url)
            await session.commit()
    finally:
        await engine.dispose()


@dataclass
class DeliveryResult:
    events: int
    concurrency: int
    seconds: float
    delivered: int
    received: int
    cpu_seconds: float  # the worker's process CPU (the receiver runs apart)

    @property
    def rate(self) -> float:
        return self.delivered / self.seconds if self.seconds else 0.0

    @property
    def cpu_us(self) -> float:
        """Worker CPU per delivery: what a machine shared with other load still shows."""
        return self.cpu_seconds / self.delivered * 1e6 if self.delivered else 0.0


async def _pending_events(db_url: str, company_id: str, count: int) -> None:
    conn = await asyncpg.connect(db_url)
    try:
        await conn.execute("INSERT INTO companies (id, name, portal_domain_verified, created_at) "
                           "VALUES ($1, 'Webhook bench', false, now()) ON CONFLICT DO NOTHING",
                           company_id)
        now = time.time()
        rows = []
        for n in range(count):
            event_id, public_id = new_event_ids(now + n / 1000)
            created = SystemClock().now()
            body = orjson.dumps({
                "id": public_id, "type": "subscription.paused",
                "companyId": company_id, "createdAt": iso_ms(created), "source": "portal",
                "data": {"object": {"id": str(uuid.uuid4()), "status": "paused",
                                    "planName": "Pro", "amount": "49.00", "currency": "USD",
                                    "interval": "month", "currentPeriodEnd": None,
                                    "customerId": str(uuid.uuid4())},
                         "previous": {"status": "active"}}}).decode()
            rows.append((event_id, company_id, "subscription.paused", "portal", body, created))
        if not rows:
            return
        await conn.copy_records_to_table(
            "events", records=rows,
            columns=["id", "company_id", "type", "source", "body", "created_at"])
    finally:
        await conn.close()


async def delivery(db_url: str, pepper: str, events: int = 10_000,
                   concurrency: int = 32) -> DeliveryResult:
    """`events` pending events, one endpoint at a local receiver (its own process),
    drained by one worker with `concurrency` slots: fan-out, claims, signing,
    HTTP, outcomes, all included in the time."""
    port = free_port()
    receiver = subprocess.Popen(  # noqa: S603, ASYNC220 (argument list built here; a one-off start)
        [sys.executable, "-m", "bench.receiver", str(port)], cwd=ROOT,
                                stdout=subprocess.PIPE, text=True)
    try:
        if receiver.stdout is None or receiver.stdout.readline().strip() != "ready":
            raise RuntimeError("the webhook receiver did not start")
        company_id = f"acct_webhookbench{uuid.uuid4().hex[:8]}"
        settings = settings_for(db_url, pepper, concurrency)
        await _pending_events(db_url, company_id, 0)  # the company first
        await add_endpoints(settings, [company_id], f"http://127.0.0.1:{port}/hooks")
        engine = create_engine(settings)
        worker = DeliveryWorker(create_session_factory(engine), SystemClock(), settings)
        settle_after_startup()  # as `gateway worker` does once started
        try:
            # What the earlier scenarios left (their events, fanned out to no endpoint),
            # untimed: the timed drain is this scenario's events alone.
            await worker.drain()
            await _pending_events(db_url, company_id, events)  # events the endpoint subscribes to
            started, cpu = time.perf_counter(), time.process_time()
            await worker.drain()
            seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        finally:
            await worker.close()
            await engine.dispose()
        conn = await asyncpg.connect(db_url)
        try:
            delivered = await conn.fetchval(
                "SELECT count(*) FROM webhook_deliveries WHERE company_id = $1 AND "
                "status = 'delivered'", company_id)
        finally:
            await conn.close()
    finally:
        receiver.terminate()
        out, _ = receiver.communicate(timeout=10)
    received = int(out.split()[-1]) if out.split() else 0
    return DeliveryResult(events, concurrency, seconds, int(delivered), received, cpu)


if __name__ == "__main__":  # python -m bench.webhooks DATABASE_URL PEPPER [EVENTS]
    count = int(sys.argv[3]) if len(sys.argv) > 3 else 10_000
    result = loop.run(delivery(sys.argv[1], sys.argv[2], count))
    print(result, f"{result.rate:,.0f}/s, {result.cpu_us:,.0f} us CPU per delivery")
