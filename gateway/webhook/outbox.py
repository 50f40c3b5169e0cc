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
  its lease cannot overwrite the state another worker has since recorded.
- Batches: fan-out rows, attempts and outcomes are written as one statement per
  batch on PostgreSQL (the rows as arrays, unnest), one executemany on SQLite."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Table, bindparam, column, func, null, or_, select, update
from sqlalchemy.dialects import sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from gateway.kit.prebuilt import array_params, unnest_insert
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


_DELIVERIES: Table = WebhookDelivery.__table__  # type: ignore[attr-defined]
_ATTEMPTS: Table = WebhookAttempt.__table__  # type: ignore[attr-defined]
_DELIVERY_COLUMNS = ("id", "company_id", "event_id", "endpoint_id", "status", "attempts",
                     "next_attempt_at", "created_at", "updated_at")
_ATTEMPT_COLUMNS = tuple(column.name for column in _ATTEMPTS.columns)
_OUTCOME_COLUMNS = ("id", "lease_token", "status", "attempts", "next_attempt_at", "updated_at")


def _row_insert(table: Table, names: Sequence[str]) -> Any:
    return sqlite.insert(table).values({name: bindparam(f"b_{name}") for name in names})


# PostgreSQL takes each batch as one statement over arrays (unnest): planned and run
# once, where an executemany runs the statement once per row. SQLite, in process,
# takes the rows one by one (executemany); the outcome is the same.
_PG_FAN_OUT = unnest_insert(_DELIVERIES, _DELIVERY_COLUMNS).on_conflict_do_nothing(
    index_elements=["event_id", "endpoint_id"])
_SQLITE_FAN_OUT = _row_insert(_DELIVERIES, _DELIVERY_COLUMNS).on_conflict_do_nothing(
    index_elements=["event_id", "endpoint_id"])
_PG_ATTEMPTS = unnest_insert(_ATTEMPTS, _ATTEMPT_COLUMNS)
_SQLITE_ATTEMPTS = _row_insert(_ATTEMPTS, _ATTEMPT_COLUMNS)
_outcomes = func.unnest(*array_params(_DELIVERIES, _OUTCOME_COLUMNS)).table_valued(
    *(column(name, _DELIVERIES.c[name].type) for name in _OUTCOME_COLUMNS)
).render_derived(name="outcome")
# Written only where the token still matches: a worker that outlived its lease does
# not overwrite what another worker has recorded since.
_PG_OUTCOMES = update(_DELIVERIES).where(
    _DELIVERIES.c.id == _outcomes.c.id, _DELIVERIES.c.lease_token == _outcomes.c.lease_token,
).values(status=_outcomes.c.status, attempts=_outcomes.c.attempts,
         next_attempt_at=_outcomes.c.next_attempt_at, lease_until=null(), lease_token=null(),
         updated_at=_outcomes.c.updated_at)
_SQLITE_OUTCOMES = update(_DELIVERIES).where(
    _DELIVERIES.c.id == bindparam("b_id"), _DELIVERIES.c.lease_token == bindparam("b_lease_token"),
).values(status=bindparam("b_status"), attempts=bindparam("b_attempts"),
         next_attempt_at=bindparam("b_next_attempt_at"), lease_until=None, lease_token=None,
         updated_at=bindparam("b_updated_at"))


async def _write_batch(session: AsyncSession, statements: tuple[Any, Any],
                       rows: list[dict[str, Any]]) -> None:
    """Runs (PostgreSQL statement, SQLite statement) for `rows`, each a dict of the
    `b_<column>` parameters."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(statements[0], {name: [row[name] for row in rows]
                                              for name in rows[0]})
    else:
        await session.execute(statements[1], rows)


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
        {"b_id": uuid.uuid4(), "b_company_id": event.company_id, "b_event_id": event.id,
         "b_endpoint_id": endpoint_id, "b_status": "pending", "b_attempts": 0,
         "b_next_attempt_at": now, "b_created_at": now, "b_updated_at": now}
        for event in events
        for endpoint_id, types, since in by_company.get(event.company_id, [])
        if (not types or event.type in types) and since <= event.created_at
    ]
    if rows:
        await _write_batch(session, (_PG_FAN_OUT, _SQLITE_FAN_OUT), rows)
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
    claimed = list((await session.execute(
        update(_DELIVERIES).where(_DELIVERIES.c.id.in_(due.scalar_subquery()))
        .values(lease_until=lease_until, lease_token=token)
        .returning(_DELIVERIES.c.id))).scalars())
    if not claimed:
        return []
    # By the ids the UPDATE returned (the primary key), not by the token (no index).
    rows = (await session.execute(
        select(col(WebhookDelivery.id), col(WebhookDelivery.attempts),
               col(WebhookDelivery.company_id), col(Event.id), col(Event.body),
               col(WebhookEndpoint.id), col(WebhookEndpoint.url),
               col(WebhookEndpoint.secret_encrypted),
               col(WebhookEndpoint.previous_secret_encrypted),
               col(WebhookEndpoint.previous_secret_expires_at))
        .join(Event, col(Event.id) == col(WebhookDelivery.event_id))
        .join(WebhookEndpoint, col(WebhookEndpoint.id) == col(WebhookDelivery.endpoint_id))
        .where(col(WebhookDelivery.id).in_(claimed))
    )).all()
    return [Job(row[0], token, row[1], row[2], row[3], row[4], row[5], row[6], row[7], row[8],
                row[9]) for row in rows]


async def record(session: AsyncSession, outcomes: Sequence[Outcome],
                 disable_after_seconds: float) -> list[uuid.UUID]:
    """Writes the attempts and the deliveries' new state; returns the endpoints this
    disabled. The caller commits."""
    if not outcomes:
        return []
    # Core statements on the tables, one per batch: no ORM bulk machinery.
    await _write_batch(session, (_PG_ATTEMPTS, _SQLITE_ATTEMPTS), [
        {"b_id": uuid.uuid4(), "b_company_id": o.job.company_id,
         "b_delivery_id": o.job.delivery_id, "b_endpoint_id": o.job.endpoint_id,
         "b_event_id": o.job.event_id, "b_number": o.job.attempts + 1,
         "b_status_code": o.status_code, "b_duration_ms": o.duration_ms, "b_error": o.error,
         "b_response_body": o.response_body, "b_next_attempt_at": o.next_attempt_at,
         "b_created_at": o.attempted_at}
        for o in outcomes])
    await _write_batch(session, (_PG_OUTCOMES, _SQLITE_OUTCOMES), [
        {"b_id": o.job.delivery_id, "b_lease_token": o.job.lease_token,
         "b_status": "delivered" if o.ok else ("pending" if o.next_attempt_at else "failed"),
         "b_attempts": o.job.attempts + 1,
         "b_next_attempt_at": o.next_attempt_at or o.attempted_at,
         "b_updated_at": o.attempted_at} for o in outcomes])
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
