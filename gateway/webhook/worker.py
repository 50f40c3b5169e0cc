"""The delivery worker: `gateway worker`, or a task inside `gateway serve` when
WEBHOOK_WORKER=inline.

One loop claims work (outbox.py) and records outcomes in batches; `concurrency`
tasks send. At most twice `concurrency` deliveries are leased at a time, so a
lease (twice the timeout, plus a margin) outlasts both the wait in the queue and
the attempt. Every time comes from the injected clock: tests move it to reach the
next retry or the fifth day of failures without sleeping."""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway.config import Settings
from gateway.event.ids import public_event_id
from gateway.event.service import EventService
from gateway.kit.collector import settle_after_startup
from gateway.kit.time import Clock
from gateway.subscription.period_end import end_due_periods
from gateway.webhook import metrics
from gateway.webhook.http import Sender
from gateway.webhook.outbox import FAN_OUT_BATCH, Job, Outcome, backlog, claim, fan_out, record
from gateway.webhook.secrets import SecretBox, signature

log = logging.getLogger("gateway.webhooks")

# Contract section 10: the waits after each failed attempt, then `failed`.
RETRY_SCHEDULE_SECONDS = (5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600, 10 * 3600)
MAX_JITTER = 0.10
DISABLE_AFTER = timedelta(days=5)
PRUNE_EVERY = timedelta(hours=1)
METRICS_EVERY = timedelta(seconds=15)
# Subscriptions set to end are cancelled within this of their period end (contract 11).
PERIOD_END_EVERY = timedelta(seconds=15)
# Results are written in batches: a short wait lets finished attempts gather.
_GATHER_SECONDS = 0.005


def retry_delay(failed_attempts: int, jitter: Callable[[], float] = random.random) -> float | None:
    """Seconds until the next attempt after `failed_attempts` failures; None: give up."""
    if failed_attempts > len(RETRY_SCHEDULE_SECONDS):
        return None
    return RETRY_SCHEDULE_SECONDS[failed_attempts - 1] * (1 + MAX_JITTER * jitter())


class DeliveryWorker:
    def __init__(self, session_factory: async_sessionmaker[AsyncSession], clock: Clock,
                 settings: Settings, *, concurrency: int | None = None) -> None:
        self.session_factory = session_factory
        self.clock = clock
        self.settings = settings
        self.concurrency = concurrency or settings.webhook_concurrency
        self.box = SecretBox(settings)
        self.sender = Sender(timeout=settings.webhook_timeout_seconds,
                             allow_private=settings.webhook_private_targets_allowed)
        self.lease = timedelta(seconds=2 * settings.webhook_timeout_seconds + 5)
        self._pruned_at: datetime | None = None
        self._measured_at: datetime | None = None
        self._periods_ended_at: datetime | None = None

    async def close(self) -> None:
        await self.sender.close()

    async def drain(self) -> None:
        """Runs until nothing is due now: every undispatched event fanned out, every
        due delivery attempted and recorded. For tests and the benchmark."""
        await self.run(until_idle=True)

    async def run(self, stop: asyncio.Event | None = None, *, until_idle: bool = False) -> None:
        stop = stop or asyncio.Event()
        queue: asyncio.Queue[Job] = asyncio.Queue()
        finished: list[Outcome] = []
        wake = asyncio.Event()
        in_flight = 0

        async def slot(number: int) -> None:
            nonlocal in_flight
            while True:
                job = await queue.get()
                try:
                    finished.append(await self.attempt(job, number))
                except Exception:  # a bug, not the receiver: the lease expires, it is retried
                    log.exception("webhook delivery %s crashed", job.delivery_id)
                finally:
                    in_flight -= 1
                    wake.set()

        slots = [asyncio.create_task(slot(number)) for number in range(self.concurrency)]
        # Fan-out runs when the last one filled a batch, else once per poll interval
        # (and before a drain may conclude); claims wait for half the slots to be free,
        # so each transaction serves a batch rather than a single delivery.
        fanned_at, last_batch = -float("inf"), 0
        claim_batch = max(1, self.concurrency // 2)
        try:
            while not stop.is_set():
                try:
                    await self._housekeeping()
                    dispatched = 0
                    concluding = until_idle and in_flight == 0 and not finished
                    if (last_batch >= FAN_OUT_BATCH or concluding
                            or time.monotonic() - fanned_at >= self.settings.webhook_poll_seconds):
                        dispatched = last_batch = await self._fan_out()
                        fanned_at = time.monotonic()
                    claimed: list[Job] = []
                    room = 2 * self.concurrency - in_flight
                    if room >= claim_batch or in_flight == 0:
                        claimed = await self._claim(room)
                        in_flight += len(claimed)
                        for job in claimed:
                            queue.put_nowait(job)
                    if finished:
                        batch = finished[:]
                        finished.clear()
                        await self._record(batch)
                except (OSError, ConnectionError, TimeoutError) as exc:
                    if until_idle:
                        raise
                    await self._pause_after(exc, stop)
                    continue
                except Exception as exc:
                    if until_idle or not _is_database_outage(exc):
                        raise
                    await self._pause_after(exc, stop)
                    continue
                if claimed or dispatched:
                    await asyncio.sleep(0)
                    continue
                if until_idle and in_flight == 0 and not finished:
                    break
                wake.clear()
                waiter = wake if in_flight else stop
                try:
                    await asyncio.wait_for(waiter.wait(), self.settings.webhook_poll_seconds)
                except TimeoutError:
                    pass
                if in_flight:
                    await asyncio.sleep(_GATHER_SECONDS)
        finally:
            for task in slots:
                task.cancel()
            await asyncio.gather(*slots, return_exceptions=True)
            if finished:  # attempts made: keep their outcome if the database lets us
                try:
                    await self._record(finished)
                except Exception:  # the leases expire and the deliveries are retried
                    log.warning("could not record %d webhook outcomes on stop", len(finished))

    async def attempt(self, job: Job, slot: int = 0) -> Outcome:
        timestamp = int(self.clock.timestamp())
        message_id = public_event_id(job.event_id)
        body = job.body.encode()
        keys = [self.box.open(job.endpoint_id, job.secret_encrypted)]
        if (job.previous_secret_encrypted is not None and job.previous_secret_expires_at
                is not None and job.previous_secret_expires_at > self.clock.now()):
            keys.append(self.box.open(job.endpoint_id, job.previous_secret_encrypted))
        signatures = " ".join(signature(key, message_id, timestamp, body) for key in keys)
        answer = await self.sender.post(job.url, {
            "content-type": "application/json",
            "webhook-id": message_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": signatures,
        }, body, slot)
        attempted_at = self.clock.now()
        next_at = None
        if not answer.ok:
            delay = retry_delay(job.attempts + 1)
            if delay is not None:
                next_at = attempted_at + timedelta(seconds=delay)
        outcome = "delivered" if answer.ok else ("retrying" if next_at else "failed")
        metrics.record_attempt(outcome, answer.duration_ms / 1000)
        return Outcome(job, answer.ok, answer.status_code, answer.duration_ms,
                       (answer.error or "")[:500] or None, answer.body, attempted_at, next_at)

    async def _fan_out(self) -> int:
        async with self.session_factory() as session:
            count = await fan_out(session, self.clock.now())
            await session.commit()
            return count

    async def _claim(self, limit: int) -> list[Job]:
        now = self.clock.now()
        async with self.session_factory() as session:
            jobs = await claim(session, now, now + self.lease, limit)
            await session.commit()
            return jobs

    async def _record(self, outcomes: list[Outcome]) -> None:
        async with self.session_factory() as session:
            disabled = await record(session, outcomes, DISABLE_AFTER.total_seconds())
            await session.commit()
        for endpoint_id in disabled:
            log.warning("webhook endpoint %s disabled after 5 days of failed deliveries",
                        endpoint_id)

    async def _housekeeping(self) -> None:
        """Pruning past retention, hourly; the backlog gauges and cancellations at the
        period end, every 15 seconds."""
        now = self.clock.now()
        if self._periods_ended_at is None or now - self._periods_ended_at >= PERIOD_END_EVERY:
            self._periods_ended_at = now
            await end_due_periods(self.session_factory, self.clock)
        if self._pruned_at is None or now - self._pruned_at >= PRUNE_EVERY:
            self._pruned_at = now
            async with self.session_factory() as session:
                pruned = await EventService(session, self.clock).prune(
                    self.settings.event_retention_days)
                await session.commit()
            if pruned:
                log.info("pruned %d events older than %d days", pruned,
                         self.settings.event_retention_days)
        if self._measured_at is None or now - self._measured_at >= METRICS_EVERY:
            self._measured_at = now
            async with self.session_factory() as session:
                pending, oldest = await backlog(session, now)
            metrics.BACKLOG.set(pending)
            metrics.OLDEST.set(oldest)

    async def _pause_after(self, exc: BaseException, stop: asyncio.Event) -> None:
        log.warning("webhook worker: database unavailable (%s); retrying",
                    type(exc).__name__)
        try:
            await asyncio.wait_for(stop.wait(), self.settings.webhook_poll_seconds)
        except TimeoutError:
            pass


def _is_database_outage(exc: BaseException) -> bool:
    from sqlalchemy.exc import DBAPIError, DisconnectionError
    from sqlalchemy.exc import TimeoutError as PoolTimeout

    if isinstance(exc, DBAPIError):
        return bool(exc.connection_invalidated) or isinstance(exc.orig, OSError | ConnectionError) \
            or "connect" in str(exc).lower() or "shutdown" in str(exc).lower()
    return isinstance(exc, DisconnectionError | PoolTimeout)


class InlineWorker:
    """The worker as a task of the serving process (WEBHOOK_WORKER=inline)."""

    def __init__(self, worker: DeliveryWorker) -> None:
        self.worker = worker
        self.stop = asyncio.Event()
        self.task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self.task = asyncio.create_task(self._run(), name="webhook-worker")

    async def _run(self) -> None:
        while not self.stop.is_set():
            try:
                await self.worker.run(self.stop)
            except Exception:  # keep delivering: the serving process must not lose it
                log.exception("webhook worker stopped on an error; restarting")
                try:
                    await asyncio.wait_for(self.stop.wait(), 5)
                except TimeoutError:
                    pass

    async def close(self) -> None:
        self.stop.set()
        if self.task is not None:
            await self.task
        await self.worker.close()


async def serve_worker(settings: Settings, concurrency: int | None = None) -> None:
    """`gateway worker`: delivers until SIGTERM or SIGINT, then finishes the attempts
    in flight (each bounded by the timeout) and records them."""
    import signal

    from gateway.db import create_engine, create_session_factory
    from gateway.kit.time import SystemClock

    engine = create_engine(settings)
    worker = DeliveryWorker(create_session_factory(engine), SystemClock(), settings,
                            concurrency=concurrency)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    settle_after_startup()  # as gateway/asgi.py does for `serve`
    log.info("webhook worker started (concurrency %d)", worker.concurrency)
    try:
        while not stop.is_set():
            try:
                await worker.run(stop)
            except Exception:
                log.exception("webhook worker loop failed; restarting")
                try:
                    await asyncio.wait_for(stop.wait(), 5)
                except TimeoutError:
                    pass
    finally:
        await worker.close()
        await engine.dispose()
        log.info("webhook worker stopped")
