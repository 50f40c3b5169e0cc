from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from gateway.kit.match import CustomerMatch
from gateway.kit.prebuilt import Prebuilt, match_clause_params, match_params
from gateway.models import PaymentLink
from gateway.models.payment_link import OPEN_PAYMENT_LINK_STATUSES

_statements = Prebuilt()


def _open_for_customer(by_client: bool) -> Any:
    return (
        select(col(PaymentLink.id), col(PaymentLink.url), col(PaymentLink.amount),
               col(PaymentLink.currency), col(PaymentLink.status), col(PaymentLink.description),
               col(PaymentLink.expires_at))
        .where(
            col(PaymentLink.company_id) == bindparam("company_id"),
            match_clause_params(PaymentLink, by_client),
            # Not IN (...): an expanding IN is re-rendered on every execution.
            or_(*(col(PaymentLink.status) == status for status in OPEN_PAYMENT_LINK_STATUSES)),
            or_(col(PaymentLink.expires_at).is_(None), col(PaymentLink.expires_at) > bindparam("now")),
        )
        .order_by(col(PaymentLink.created_at).desc(), col(PaymentLink.id).desc())
        .limit(bindparam("limit"))
    )


class PaymentLinkRepository:
    """Every query is scoped by company: the company id is always the first argument."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, link: PaymentLink) -> PaymentLink:
        self.session.add(link)
        await self.session.flush()
        return link

    async def open_for_customer(
        self, company_id: str, match: CustomerMatch, now: datetime, limit: int
    ) -> list[Any]:
        """Active or unpaid and not past their expiry, newest first: rows with the
        attributes the portal shows (id, url, amount, currency, status, description,
        expires_at)."""
        by_client = match.client_id is not None
        statement = _statements.get(by_client, lambda: _open_for_customer(by_client))
        params = {"company_id": company_id, "now": now, "limit": limit, **match_params(match)}
        return list(await self.session.execute(statement, params))
