from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from gateway.audit.repository import AuditEventRepository
from gateway.customer.service import CustomerService
from gateway.kit.cursor import Page, check_page_size, decode_cursor
from gateway.kit.ids import new_uuid
from gateway.kit.time import Clock
from gateway.models import AuditEvent


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acted, as far as the request tells: kept with the event for the merchant."""

    company_id: str
    customer_uid: str
    client_ip: str | None = None
    user_agent: str | None = None


@dataclass(frozen=True, slots=True)
class Change:
    action: str
    subject_type: str
    subject_id: str
    before: str | None
    after: str | None
    details: dict[str, Any] | None = None


def _clip(value: str | None, length: int) -> str | None:
    return value[:length] if value is not None else None


class AuditService:
    def __init__(self, session: AsyncSession, clock: Clock) -> None:
        self.session = session
        self.repo = AuditEventRepository(session)
        self.clock = clock

    async def list(
        self,
        company_id: str,
        *,
        first: int = 20,
        after: str | None = None,
        customer_ref: str | None = None,
    ) -> Page[AuditEvent]:
        """The company's events, newest first; `customer_ref` (UUID or UID) must name
        one of the company's customers, else NotFound, as for every customerId."""
        check_page_size(first)
        cursor = decode_cursor(after) if after else None
        customer_uid = None
        if customer_ref is not None:
            customer = await CustomerService(self.session, self.clock).get(company_id, customer_ref)
            customer_uid = customer.uid
        rows = await self.repo.list(company_id, limit=first + 1, after=cursor,
                                    customer_uid=customer_uid)
        return Page.of(rows, first)

    async def record(self, actor: Actor, change: Change, idempotency_key: str | None = None) -> None:
        """Written in the caller's transaction, so the event exists exactly when the change does."""
        await self.repo.add(
            AuditEvent(
                id=new_uuid(),
                company_id=actor.company_id,
                customer_uid=actor.customer_uid,
                action=change.action,
                subject_type=change.subject_type,
                subject_id=change.subject_id,
                state_before=_clip(change.before, 200),
                state_after=_clip(change.after, 200),
                client_ip=_clip(actor.client_ip, 64),
                user_agent=_clip(actor.user_agent, 500),
                idempotency_key=idempotency_key,
                details=change.details,
                created_at=self.clock.now(),
            )
        )
