from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select, union
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from gateway.kit.match import CustomerMatch
from gateway.kit.prebuilt import Prebuilt, match_params, newest_first_after_params
from gateway.models import Payment

_COLUMNS = (col(Payment.id), col(Payment.amount), col(Payment.currency), col(Payment.status),
            col(Payment.description), col(Payment.created_at))
_statements = Prebuilt()


def _newest_first(query: Any, created: Any, row_id: Any) -> Any:
    return query.order_by(created.desc(), row_id.desc()).limit(bindparam("limit"))


def _for_customer(by_client: bool, paged: bool) -> Any:
    """One index-ordered scan per match path (ix_payments_company_email_created and
    _client_created), each stopping after `limit` rows, merged by UNION (which also
    drops a payment matched both ways). An OR of the two would read every payment
    of the customer and sort them, a cost that grows with their history."""

    def branch(column: Any) -> Any:
        query = select(*_COLUMNS).where(col(Payment.company_id) == bindparam("company_id"),
                                        column == bindparam(column.key))
        if paged:
            query = query.where(newest_first_after_params(Payment))
        return _newest_first(query, Payment.created_at, Payment.id)

    if not by_client:
        return branch(Payment.email)
    merged = union(branch(Payment.email).subquery().select(),
                   branch(Payment.client_id).subquery().select()).subquery()
    return _newest_first(select(*merged.c), merged.c.created_at, merged.c.id)


class PaymentRepository:
    """Every query is scoped by company: the company id is always the first argument."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, payment: Payment) -> Payment:
        self.session.add(payment)
        await self.session.flush()
        return payment

    async def list_for_customer(
        self,
        company_id: str,
        match: CustomerMatch,
        *,
        limit: int,
        after: tuple[datetime, uuid.UUID] | None = None,
    ) -> list[Any]:
        """Rows with the Payment attributes the portal shows (id, amount, currency,
        status, description, created_at)."""
        by_client = match.client_id is not None
        statement = _statements.get((by_client, after is not None),
                                    lambda: _for_customer(by_client, after is not None))
        params: dict[str, Any] = {"company_id": company_id, "limit": limit,
                                  **match_params(match)}
        if after is not None:
            params["after_created"], params["after_id"] = after
        return list(await self.session.execute(statement, params))
