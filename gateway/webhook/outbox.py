"""The delivery queue in the database: fan-out, claims with leases, outcomes.

A small outbox poller of our own rather than a job library: the events must be
written in the change's own transaction (SQLAlchemy's session, on PostgreSQL or
SQLite), and the libraries that claim with SKIP LOCKED (procrastinate, pgqueuer)
are PostgreSQL-only, so the SQLite default would need a second path anyway. What
they would give us is the claim below, a handful of statements.

- Fan-out: events not yet dispatched become one delivery row per subscribed,
  enabled endpoint, and are marked dispatched, in one transaction. A unique
  (event, endpoint) pair makes a repeated fan-out harmless.
- Claim: due, unleased deliveries get a lease (until lease_until) and a token, in
  one UPDATE whose subquery locks with FOR UPDATE SKIP LOCKED on PostgreSQL, so two
  workers never claim the same row; SQLite serialises writers anyway. A worker that
  dies leaves its lease to expire, and the delivery is claimed again (at least once).
- Outcome: written only where the token still matches, so a worker that outlived
  its lease cannot overwrite the state another worker has since recorded."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Table, and_, bindparam, func, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from gateway.models import Event, WebhookAttempt, WebhookDelivery, WebhookEndpoint

FAN_OUT_BATCH = 500


@dataclass(frozen=True, slots=True)
class Job:
    delivery_id: uuid.UUID
    lease_token: uuid.UUID
    attempts: int
    company_id: str
    event_id: uuid.UUID
    body: str
    endpoint_id: uuid.UUID
    url: str
    secret_encrypted: str
    previous_secret_encrypted: str | None
    previous_secret_expires_at: datetime | None


@dataclass(frozen=True, slots=True)
class Outcome:
    job: Job
    ok: bool
    status_code: int | None
    duration_ms: int
    error: str | None
    response_body: str | None
    attempted_at: datetime
    next_attempt_at: datetime | None  # None: delivered, or given up


def _insert(session: AsyncSession, model: type) -> Any:
    """INSERT with ON CONFLICT support, in the session's dialect."""
    dialect = session.get_bind().dialect.name
    return postgresql.insert(model) if dialect == "postgresql" else sqlite.insert(model)


async def fan_out(session: AsyncSession, now: datetime, limit: int = FAN_OUT_BATCH) -> int:
    """Dispatches up to `limit` events; returns how many. The caller commits."""
    pending = (
        select(col(Event.id), col(Event.company_id), col(Event.type), col(Event.created_at))
        .where(col(Event.dispatched_at).is_(None))
        .order_by(col(Event.id)).limit(limit)
        .with_for_update(skip_locked=True)
    )
    events = (await session.execute(pending)).all()
    if not events:
        return 0
    companies = {row.company_id for row in events}
    endpoints = (await session.execute(
        select(col(WebhookEndpoint.id), col(WebhookEndpoint.company_id),
               col(WebhookEndpoint.event_types), col(WebhookEndpoint.created_at))
        .where(col(WebhookEndpoint.company_id).in_(companies), col(WebhookEndpoint.enabled))
    )).all()
    by_company: dict[str, list[tuple[uuid.UUID, list[str], datetime]]] = {}
    for endpoint in endpoints:
        by_company.setdefault(endpoint.company_id, []).append(
            (endpoint.id, endpoint.event_types, endpoint.created_at))
    # An endpoint hears of events from its creation on, not of older ones that the
    # worker had not fanned out yet.
    rows = [
        {"id": uuid.uuid4(), "company_id": event.company_id, "event_id": event.id,
         "endpoint_id": endpoint_id, "status": "pending", "attempts": 0,
         "next_attempt_at": now, "created_at": now, "updated_at": now}
        for event in events
        for endpoint_id, types, since in by_company.get(event.company_id, [])
        if (not types or event.type in types) and since <= event.created_at
    ]
    if rows:
        statement = _insert(session, WebhookDelivery)
        await session.execute(
            statement.on_conflict_do_nothing(index_elements=["event_id", "endpoint_id"]), rows)
    await session.execute(update(Event).where(col(Event.id).in_([e.id for e in events]))
                          .values(dispatched_at=now))
    return len(events)


async def claim(session: AsyncSession, now: datetime, lease_until: datetime,
                limit: int) -> list[Job]:
    """Leases up to `limit` due deliveries of enabled endpoints, oldest due first.
    The caller commits at once (the lease must be visible to other workers)."""
    token = uuid.uuid4()
    due = (
        select(col(WebhookDelivery.id))
        .join(WebhookEndpoint, col(WebhookEndpoint.id) == col(WebhookDelivery.endpoint_id))
        .where(col(WebhookDelivery.status) == "pending",
               col(WebhookDelivery.next_attempt_at) <= now,
               or_(col(WebhookDelivery.lease_until).is_(None),
                   col(WebhookDelivery.lease_until) < now),
               col(WebhookEndpoint.enabled))
        .order_by(col(WebhookDelivery.next_attempt_at)).limit(limit)
        .with_for_update(of=WebhookDelivery, skip_locked=True)
    )
    claimed = await session.execute(
        update(WebhookDelivery).where(col(WebhookDelivery.id).in_(due.scalar_subquery()))
        .values(lease_until=lease_until, lease_token=token)
        .execution_options(synchronize_session=False))
    if not claimed.rowcount:  # type: ignore[attr-defined]
        return []
    rows = (await session.execute(
        select(col(WebhookDelivery.id), col(WebhookDelivery.attempts),
               col(WebhookDelivery.company_id), col(Event.id), col(Event.body),
               col(WebhookEndpoint.id), col(WebhookEndpoint.url),
               col(WebhookEndpoint.secret_encrypted),
               col(WebhookEndpoint.previous_secret_encrypted),
               col(WebhookEndpoint.previous_secret_expires_at))
        .join(Event, col(Event.id) == col(WebhookDelivery.event_id))
        .join(WebhookEndpoint, col(WebhookEndpoint.id) == col(WebhookDelivery.endpoint_id))
        .where(col(WebhookDelivery.lease_token) == token)
    )).all()
    return [Job(row[0], token, row[1], row[2], row[3], row[4], row[5], row[6], row[7], row[8],
                row[9]) for row in rows]


async def record(session: AsyncSession, outcomes: Sequence[Outcome],
                 disable_after_seconds: float) -> list[uuid.UUID]:
    """Writes the attempts and the deliveries' new state; returns the endpoints this
    disabled. The caller commits."""
    if not outcomes:
        return []
    await session.execute(insert(WebhookAttempt.__table__), [  # type: ignore[attr-defined]
        {"id": uuid.uuid4(), "company_id": o.job.company_id, "delivery_id": o.job.delivery_id,
         "endpoint_id": o.job.endpoint_id, "event_id": o.job.event_id,
         "number": o.job.attempts + 1, "status_code": o.status_code,
         "duration_ms": o.duration_ms, "error": o.error, "response_body": o.response_body,
         "next_attempt_at": o.next_attempt_at, "created_at": o.attempted_at}
        for o in outcomes])
    # Core statements on the tables: one executemany each, no ORM bulk machinery.
    deliveries: Table = WebhookDelivery.__table__  # type: ignore[attr-defined]
    held = and_(deliveries.c.id == bindparam("b_id"),
                deliveries.c.lease_token == bindparam("b_token"))
    await session.execute(
        update(deliveries).where(held).values(
            status=bindparam("b_status"), attempts=bindparam("b_attempts"),
            next_attempt_at=bindparam("b_next"), lease_until=None, lease_token=None,
            updated_at=bindparam("b_now")),
        [{"b_id": o.job.delivery_id, "b_token": o.job.lease_token,
          "b_status": "delivered" if o.ok else ("pending" if o.next_attempt_at else "failed"),
          "b_attempts": o.job.attempts + 1, "b_next": o.next_attempt_at or o.attempted_at,
          "b_now": o.attempted_at} for o in outcomes])
    now = max(o.attempted_at for o in outcomes)
    succeeded = {o.job.endpoint_id for o in outcomes if o.ok}
    failed = {o.job.endpoint_id for o in outcomes if not o.ok} - succeeded
    if succeeded:
        await session.execute(update(WebhookEndpoint).where(
            col(WebhookEndpoint.id).in_(succeeded), col(WebhookEndpoint.failing_since).is_not(None))
            .values(failing_since=None))
    if not failed:
        return []
    await session.execute(update(WebhookEndpoint).where(
        col(WebhookEndpoint.id).in_(failed), col(WebhookEndpoint.failing_since).is_(None))
        .values(failing_since=now))
    cutoff = now - timedelta(seconds=disable_after_seconds)
    disabled = await session.execute(
        update(WebhookEndpoint).where(
            col(WebhookEndpoint.id).in_(failed), col(WebhookEndpoint.enabled),
            col(WebhookEndpoint.failing_since) <= cutoff)
        .values(enabled=False, updated_at=now, disabled_reason=(
            "Every delivery failed for 5 days; fix the endpoint, then enable it again."))
        .returning(col(WebhookEndpoint.id)))
    return list(disabled.scalars())


async def backlog(session: AsyncSession, now: datetime) -> tuple[int, float]:
    """Pending deliveries and the age in seconds of the oldest due one (0: none)."""
    row = (await session.execute(
        select(func.count(), func.min(WebhookDelivery.next_attempt_at))
        .where(col(WebhookDelivery.status) == "pending"))).one()
    oldest: datetime | None = row[1]
    age = max(0.0, (now - oldest).total_seconds()) if oldest is not None else 0.0
    return int(row[0]), age
