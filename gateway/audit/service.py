from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from gateway.audit.repository import AuditEventRepository, SettingsChangeRepository
from gateway.customer.service import CustomerService
from gateway.kit.cursor import Cursor, Page
from gateway.kit.ids import new_uuid
from gateway.kit.service import Service
from gateway.models import AuditEvent, SettingsChange


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


class ActorType(StrEnum):
    API_KEY = "API_KEY"
    DASHBOARD_USER = "DASHBOARD_USER"
    OPERATOR = "OPERATOR"  # the gateway command (set-portal-settings, set-branding)


@dataclass(frozen=True, slots=True)
class SettingsActor:
    """Who changed a company's portal settings or branding, kept with the change."""

    type: ActorType
    id: str | None = None  # the API key's id or the dashboard user's UUID
    email: str | None = None  # the dashboard user's, as it was at the change
    client_ip: str | None = None
    user_agent: str | None = None


OPERATOR = SettingsActor(ActorType.OPERATOR)


def field_changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, Any]:
    """The fields whose value differs, each with its value before and after."""
    return {key: {"before": before.get(key), "after": value}
            for key, value in after.items() if before.get(key) != value}


def _clip(value: str | None, length: int) -> str | None:
    return value[:length] if value is not None else None


class AuditService(Service[AuditEventRepository]):
    repository = AuditEventRepository

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
        async def fetch(limit: int, cursor: Cursor | None) -> list[AuditEvent]:
            customer_uid = None
            if customer_ref is not None:
                customer = await CustomerService(self.session, self.clock).get(
                    company_id, customer_ref)
                customer_uid = customer.uid
            return await self.repo.newest_first(company_id, limit=limit, after=cursor,
                                                customer_uid=customer_uid)

        return await Page.read(first, after, fetch)

    async def record(self, actor: Actor, change: Change, idempotency_key: str | None = None) -> None:
        """Written in the caller's transaction, so the event exists exactly when the change does."""
        row: dict[str, Any] = {
            "id": new_uuid(), "company_id": actor.company_id, "customer_uid": actor.customer_uid,
            "action": change.action, "subject_type": change.subject_type,
            "subject_id": change.subject_id, "state_before": _clip(change.before, 200),
            "state_after": _clip(change.after, 200), "client_ip": _clip(actor.client_ip, 64),
            "user_agent": _clip(actor.user_agent, 500), "idempotency_key": idempotency_key,
            "created_at": self.clock.now()}
        if change.details is not None:  # else SQL NULL, not a JSON null
            row["details"] = change.details
        await self.repo.insert(row)


class SettingsChangeService(Service[SettingsChangeRepository]):
    """The merchant's own audit trail: changes to portal settings and branding, by an
    API key, a dashboard user or the operator. The values are the settings as the API
    shows them; none of them is a secret."""

    repository = SettingsChangeRepository

    async def list(self, company_id: str, *, first: int = 20, after: str | None = None
                   ) -> Page[SettingsChange]:
        return await Page.read(first, after, lambda limit, cursor: self.repo.newest_first(
            company_id, limit=limit, after=cursor))

    async def record(self, company_id: str, actor: SettingsActor, action: str,
                     before: Mapping[str, Any], after: Mapping[str, Any]) -> SettingsChange | None:
        """In the caller's transaction, so the record exists exactly when the change
        does; nothing when no field changed."""
        changes = field_changes(before, after)
        if not changes:
            return None
        return await self.repo.add(SettingsChange(
            id=new_uuid(), company_id=company_id, action=action, actor_type=actor.type.value,
            actor_id=actor.id, actor_email=_clip(actor.email, 320), changes=changes,
            client_ip=_clip(actor.client_ip, 64), user_agent=_clip(actor.user_agent, 500),
            created_at=self.clock.now()))
