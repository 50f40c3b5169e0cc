"""The portal page's lists in one statement: a page of payments, the open payment
links and the subscriptions of one customer of one company.

Each list was its own statement, and each statement cost more in the driver and the
session than in PostgreSQL (~250-400 us of worker CPU, mostly per-statement
overhead). Here the lists the query asks for are the branches of one UNION ALL,
each the same index-ordered, company-scoped, limited select as before, tagged with
the list it belongs to. Works as written on PostgreSQL and SQLite."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, NamedTuple

from sqlalchemy import (
    Boolean,
    Integer,
    String,
    bindparam,
    cast,
    literal_column,
    null,
    or_,
    select,
    union,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlmodel import col

from gateway.db import driver_fetch, driver_pool
from gateway.kit.match import CustomerMatch
from gateway.kit.prebuilt import (
    Prebuilt,
    match_clause_params,
    match_params,
    newest_first_after_params,
)
from gateway.models import Payment, PaymentLink, Subscription
from gateway.models.payment_link import OPEN_PAYMENT_LINK_STATUSES

PAYMENTS, PAYMENT_LINKS, SUBSCRIPTIONS = 0, 1, 2
# Untyped on purpose: mypy 2.4 crashes expanding union_all's variadic overloads over
# a list of selects of different shapes.
_union_all: Any = union_all
_statements = Prebuilt()
_driver_sql = Prebuilt()


class ListRow(NamedTuple):
    """A row of the union, as the driver pool returns it, with attribute names."""

    part: int
    id: uuid.UUID
    amount: Decimal
    currency: str
    status: str
    description: str | None
    url: str | None
    plan_name: str | None
    interval: str | None
    at: datetime | None
    created_at: datetime
    cancel_at_period_end: bool | None
    cancellation_reason: str | None
    cancellation_comment: str | None


@dataclass(frozen=True, slots=True)
class PaymentsPage:
    limit: int
    after: tuple[datetime, uuid.UUID] | None = None


@dataclass(frozen=True, slots=True)
class Lists:
    """What one statement reads; a list left out (None / False) is not read."""

    payments: PaymentsPage | None = None
    payment_links: int | None = None  # limit
    subscriptions: int | None = None  # limit


def _newest_first(query: Any, created: Any, row_id: Any, limit: str) -> Any:
    return query.order_by(created.desc(), row_id.desc()).limit(bindparam(limit))


def _tagged(part: int, source: Any, *, url: Any = None, plan_name: Any = None,
            interval: Any = None, at: Any = None) -> Any:
    """One branch in the union's common shape (part, id, amount, currency, status,
    description, url, plan_name, interval, at, created_at, and a subscription's
    cancel_at_period_end, cancellation_reason, cancellation_comment)."""
    c = source.c

    def typed(name: str, kind: Any = String) -> Any:
        return (c[name] if name in c else cast(null(), kind)).label(name)

    def text(value: Any, name: str) -> Any:
        return (value if value is not None else cast(null(), String)).label(name)

    return select(
        literal_column(str(part), Integer).label("part"), c.id, c.amount, c.currency,
        c.status, typed("description"),
        text(url, "url"), text(plan_name, "plan_name"), text(interval, "interval"),
        (at if at is not None else c.created_at).label("at"), c.created_at,
        typed("cancel_at_period_end", Boolean), typed("cancellation_reason"),
        typed("cancellation_comment"),
    )


def _payments(by_client: bool, paged: bool) -> Any:
    """As PaymentRepository: one index-ordered scan per match path, each stopping
    after the page, merged by UNION (which drops a payment matched both ways)."""
    def branch(column: Any) -> Any:
        query = select(col(Payment.id), col(Payment.amount), col(Payment.currency),
                       col(Payment.status), col(Payment.description),
                       col(Payment.created_at)).where(
            col(Payment.company_id) == bindparam("company_id"),
            column == bindparam(column.key))
        if paged:
            query = query.where(newest_first_after_params(Payment))
        return _newest_first(query, col(Payment.created_at), col(Payment.id), "payments_limit")

    if not by_client:
        return branch(col(Payment.email)).subquery()
    merged = union(branch(col(Payment.email)).subquery().select(),
                   branch(col(Payment.client_id)).subquery().select()).subquery()
    return _newest_first(select(*merged.c), merged.c.created_at, merged.c.id,
                         "payments_limit").subquery()


def _listed(model: Any, columns: tuple[Any, ...], by_client: bool, limit: str,
            *conditions: Any) -> Any:
    """One company-scoped, customer-matched list, newest first and limited."""
    query = select(*(col(column) for column in columns)).where(
        col(model.company_id) == bindparam("company_id"),
        match_clause_params(model, by_client), *conditions)
    return _newest_first(query, col(model.created_at), col(model.id), limit).subquery()


def _payment_links(by_client: bool) -> Any:
    return _listed(
        PaymentLink, (PaymentLink.id, PaymentLink.url, PaymentLink.amount, PaymentLink.currency,
                      PaymentLink.status, PaymentLink.description, PaymentLink.expires_at,
                      PaymentLink.created_at),
        by_client, "payment_links_limit",
        # Not IN (...): an expanding IN is re-rendered on every execution.
        or_(*(col(PaymentLink.status) == status for status in OPEN_PAYMENT_LINK_STATUSES)),
        or_(col(PaymentLink.expires_at).is_(None), col(PaymentLink.expires_at) > bindparam("now")),
    )


def _subscriptions(by_client: bool) -> Any:
    return _listed(
        Subscription, (Subscription.id, Subscription.status, Subscription.plan_name,
                       Subscription.amount, Subscription.currency, Subscription.interval,
                       Subscription.current_period_end, Subscription.created_at,
                       Subscription.cancel_at_period_end, Subscription.cancellation_reason,
                       Subscription.cancellation_comment),
        by_client, "subscriptions_limit",
    )


def _build(by_client: bool, payments: bool | None, links: bool, subscriptions: bool) -> Any:
    branches: list[Any] = []
    if payments is not None:
        branches.append(_tagged(PAYMENTS, _payments(by_client, paged=payments)))
    if links:
        source = _payment_links(by_client)
        branches.append(_tagged(PAYMENT_LINKS, source, url=source.c.url, at=source.c.expires_at))
    if subscriptions:
        source = _subscriptions(by_client)
        branches.append(_tagged(SUBSCRIPTIONS, source, plan_name=source.c.plan_name,
                                interval=source.c.interval, at=source.c.current_period_end))
    merged: Any = (_union_all(*branches) if len(branches) > 1 else branches[0]).subquery()
    # Each branch is already in order; the sort keeps it so across the union.
    return select(*merged.c).order_by(merged.c.part, merged.c.created_at.desc(),
                                      merged.c.id.desc())


class PortalRepository:
    """Every query is scoped by company: the company id is always the first argument."""

    def __init__(self, sessions: Callable[[], AsyncSession], engine: AsyncEngine) -> None:
        self.sessions = sessions  # the request's session, made when first asked for
        self.engine = engine

    async def lists(self, company_id: str, match: CustomerMatch, wanted: Lists,
                    now: datetime) -> dict[int, list[Any]]:
        """Rows per part (PAYMENTS, PAYMENT_LINKS, SUBSCRIPTIONS), each newest first,
        with the attributes: id, amount, currency, status, description, url,
        plan_name, interval, at (payment: created_at; link: expires_at; subscription:
        current_period_end) and created_at."""
        by_client = match.client_id is not None
        page = wanted.payments
        shape = (by_client, None if page is None else page.after is not None,
                 wanted.payment_links is not None, wanted.subscriptions is not None)
        statement = _statements.get(shape, lambda: _build(*shape))
        params: dict[str, Any] = {"company_id": company_id, **match_params(match)}
        if page is not None:
            params["payments_limit"] = page.limit
            if page.after is not None:
                params["after_created"], params["after_id"] = page.after
        if wanted.payment_links is not None:
            params["payment_links_limit"] = wanted.payment_links
            params["now"] = now
        if wanted.subscriptions is not None:
            params["subscriptions_limit"] = wanted.subscriptions
        parts: dict[int, list[Any]] = {PAYMENTS: [], PAYMENT_LINKS: [], SUBSCRIPTIONS: []}
        pool = await driver_pool(self.engine)
        if pool is None:
            for row in await self.sessions().execute(statement, params):
                parts[row.part].append(row)
            return parts
        # PostgreSQL: the same statement, compiled once, on the driver pool (the
        # session's per-statement and per-value processing was most of the cost).
        sql, names, defaults = _driver_sql.get(shape, lambda: self._compiled(statement))
        values = {**defaults, **params}
        for record in await driver_fetch(self.engine, pool, sql,
                                         *[values[name] for name in names]):
            listed = ListRow(*record)
            parts[listed.part].append(listed)
        return parts

    def _compiled(self, statement: Any) -> tuple[str, tuple[str, ...], dict[str, Any]]:
        compiled = statement.compile(dialect=self.engine.dialect)
        return str(compiled), tuple(compiled.positiontup or ()), dict(compiled.params)
