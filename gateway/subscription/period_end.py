"""Cancellations at the period end (contract section 11): a subscription set to end
becomes `cancelled` at its currentPeriodEnd, moved by the delivery worker's loop, with
a `subscription.cancelled` event of source `system`.

Exactly once however many workers run: each row moves by a conditional UPDATE (still
set to end, still in the status read), in the same transaction as its event. Of two
workers that read the same due row, PostgreSQL makes the second UPDATE wait for the
first to commit and then re-check its WHERE, which no longer holds; SQLite has one
writer at a time. So one worker changes the row and writes the event, the other
does neither."""

from __future__ import annotations

import logging

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from gateway.event.payloads import subscription_object
from gateway.event.service import EventService, Source
from gateway.kit.time import Clock
from gateway.models import Customer, Subscription
from gateway.models.subscription import PERIOD_END_STATUSES

log = logging.getLogger("gateway.subscriptions")

BATCH = 100


async def end_due_periods(session_factory: async_sessionmaker[AsyncSession], clock: Clock) -> int:
    """Cancels every subscription set to end whose period ended by now; the number
    this call cancelled (another worker's share not counted)."""
    ended = 0
    while True:
        now = clock.now()
        async with session_factory() as session:
            due = list((await session.execute(
                select(Subscription)
                .where(col(Subscription.cancel_at_period_end),
                       col(Subscription.current_period_end) <= now,
                       col(Subscription.status).in_(PERIOD_END_STATUSES))
                .order_by(col(Subscription.current_period_end))
                .limit(BATCH)
            )).scalars())
            for row in due:
                before = row.status
                moved = await session.execute(
                    update(Subscription)
                    .where(col(Subscription.company_id) == row.company_id,
                           col(Subscription.id) == row.id,
                           col(Subscription.status) == before,
                           col(Subscription.cancel_at_period_end))
                    .values(status="cancelled", cancel_at_period_end=False, updated_at=now)
                    .execution_options(synchronize_session=False)
                )
                if not moved.rowcount:  # type: ignore[attr-defined]
                    continue  # another worker ended it, or the customer kept it
                row.status, row.cancel_at_period_end, row.updated_at = "cancelled", False, now
                customer_id = await _customer_id(session, row)
                await EventService(session, clock).emit(
                    row.company_id, "subscription.cancelled", Source.system,
                    subscription_object(row, customer_id),
                    {"status": before, "cancelAtPeriodEnd": True})
                ended += 1
            await session.commit()
        if len(due) < BATCH:
            break
    if ended:
        log.info("cancelled %d subscriptions at their period end", ended)
    return ended


async def _customer_id(session: AsyncSession, row: Subscription) -> str | None:
    """The customer the subscription reaches (by email, or metadata.clientId), for the
    event's customerId; the oldest when several match."""
    matches = [col(Customer.email) == row.email] if row.email else []
    if row.client_id:
        matches.append(col(Customer.client_id) == row.client_id)
    found = (await session.execute(
        select(col(Customer.id)).where(col(Customer.company_id) == row.company_id, or_(*matches))
        .order_by(col(Customer.created_at)).limit(1)
    )).scalar_one_or_none()
    return None if found is None else str(found)
