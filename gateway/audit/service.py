from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from gateway.audit.repository import AuditEventRepository
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


def _clip(value: str | None, length: int) -> str | None:
    return value[:length] if value is not None else None


class AuditService:
    def __init__(self, session: AsyncSession, clock: Clock) -> None:
        self.repo = AuditEventRepository(session)
        self.clock = clock

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
                created_at=self.clock.now(),
            )
        )
