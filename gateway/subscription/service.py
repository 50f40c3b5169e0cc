from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from gateway.company.portal_settings import DEFAULT_SETTINGS, CancellationMode, PortalSettings
from gateway.errors import BadRequest, Forbidden, NotFound, SubscriptionStateConflict
from gateway.kit import validate
from gateway.kit.amounts import billed_columns
from gateway.kit.ids import parse_uuid
from gateway.kit.match import CustomerMatch
from gateway.kit.money import format_amount
from gateway.kit.service import Service
from gateway.kit.time import iso_ms
from gateway.models import Subscription
from gateway.models.subscription import INTERVALS, SUBSCRIPTION_STATUSES
from gateway.subscription.repository import SubscriptionRepository

_PERIOD = {
    "day": timedelta(days=1),
    "week": timedelta(weeks=1),
    "month": timedelta(days=30),
    "year": timedelta(days=365),
}


# The portal lists a customer's plans on one screen.
MAX_LISTED = 100
# Compare-and-set attempts before giving up; a loser re-reads, so one retry settles
# any race between two writers.
_ATTEMPTS = 3


def period_end(start: datetime, interval: str) -> datetime:
    return start + _PERIOD[interval]


class Action(StrEnum):
    pause = "pause"
    reactivate = "reactivate"
    cancel = "cancel"


# The transitions most calls make, as (status before, status after) for a subscription
# without an end set: target() gives the same for such a row.
_COMMON = {Action.pause: ("active", "paused"), Action.reactivate: ("paused", "active")}
_PAST = {Action.pause: "paused", Action.reactivate: "reactivated", Action.cancel: "cancelled"}
MAX_COMMENT = 500


@dataclass(frozen=True, slots=True)
class Cancellation:
    """Why the customer cancels: a code the merchant offers and an optional comment."""

    reason: str | None = None
    comment: str | None = None


def clean_cancellation(settings: PortalSettings, reason: str | None,
                       comment: str | None) -> Cancellation:
    if reason is not None and reason not in settings.cancellation_reasons:
        offered = ", ".join(settings.cancellation_reasons) or "none"
        raise BadRequest(f"reason must be one of the reasons offered: {offered}.", field="reason")
    if comment is not None:
        # The one check for text a person types and others read (here, the merchant).
        comment = validate.display_text(comment, "comment", max_length=MAX_COMMENT)
    return Cancellation(reason, comment or None)




def target(row: Subscription, action: Action, mode: CancellationMode) -> dict[str, Any] | None:
    """The contract's state table (section 5.2) as section 11 extends it: the columns
    `action` sets on `row`, or None for a conflict. The predicates live on the model."""
    if action is Action.pause:
        return {"status": "paused"} if row.can_pause() else None
    if action is Action.reactivate:
        if not row.can_reactivate():
            return None
        # A paused subscription resumes; one set to end at the period end is kept.
        return {"status": "active"} if row.status == "paused" else \
            {"cancel_at_period_end": False, "cancellation_reason": None,
             "cancellation_comment": None}
    if mode is CancellationMode.AT_PERIOD_END:
        if row.can_cancel_at_period_end():
            return {"cancel_at_period_end": True}
        if row.cancel_at_period_end:  # already set to end then
            return None
    return {"status": "cancelled", "cancel_at_period_end": False} if row.can_cancel() else None


@dataclass(frozen=True, slots=True)
class Transition:
    subscription: Subscription
    before: str
    before_cancel_at_period_end: bool


def snapshot(row: Subscription) -> dict[str, Any]:
    """A JSON-able copy of what clients see, kept as an idempotent call's result."""
    return {
        "id": str(row.id),
        "status": row.status,
        "planName": row.plan_name,
        "amount": format_amount(row.amount, row.currency),
        "currency": row.currency,
        "interval": row.interval,
        "currentPeriodEnd": iso_ms(row.current_period_end) if row.current_period_end else None,
        "cancelAtPeriodEnd": row.cancel_at_period_end,
        "cancellationReason": row.cancellation_reason,
        "cancellationComment": row.cancellation_comment,
    }


def parse_subscription_id(value: str) -> uuid.UUID:
    parsed = parse_uuid(value.strip())
    if parsed is None:
        raise BadRequest("subscriptionId must be a subscription UUID.")
    return parsed


class SubscriptionService(Service[SubscriptionRepository]):
    repository = SubscriptionRepository

    async def create(
        self,
        company_id: str,
        *,
        plan_name: str,
        amount: str,
        currency: str,
        interval: str,
        email: str | None = None,
        metadata: object = None,
        status: str = "active",
    ) -> Subscription:
        meta = validate.metadata(metadata)
        client_id = meta.get("clientId")
        if client_id is not None and not isinstance(client_id, str):
            raise BadRequest("metadata.clientId must be a string.")
        billed = billed_columns(company_id, amount, currency, email, client_id,
                                client_field="metadata.clientId", record="subscription")
        now = self.clock.now()
        subscription = Subscription(
            **billed,
            metadata_=meta,
            plan_name=validate.text(plan_name, "planName", min_length=1, max_length=200) or "",
            interval=validate.choice(interval, "interval", INTERVALS),
            status=validate.choice(status, "status", SUBSCRIPTION_STATUSES),
            current_period_end=period_end(now, interval),
            created_at=now,
            updated_at=now,
        )
        return await self.repo.add(subscription)

    async def apply(
        self, company_id: str, match: CustomerMatch, subscription_id: str, action: Action,
        settings: PortalSettings = DEFAULT_SETTINGS, cancellation: Cancellation | None = None,
    ) -> Transition:
        """One state change, atomic against concurrent writers: the UPDATE only applies
        if the row is still in the state the rule was checked against. The caller commits."""
        sub_id = parse_subscription_id(subscription_id)
        if action is Action.pause and not settings.pause_enabled:
            raise Forbidden("This merchant does not offer pausing subscriptions; you can "
                            "cancel instead.")
        common = _COMMON.get(action)
        if common is not None:
            # The usual case in one statement; anything else (not found, a conflict,
            # an end set) is read and decided below, as every other transition is.
            before, after = common
            moved = await self.repo.move_status(company_id, match, sub_id, before, after,
                                                self.clock.now())
            if moved is not None:
                return Transition(moved, before, False)
        for _ in range(_ATTEMPTS):
            row = await self.repo.get_for_customer(company_id, match, sub_id)
            if row is None:
                raise NotFound("No such subscription.")
            values = target(row, action, settings.cancellation_mode)
            if values is None:
                raise SubscriptionStateConflict(_PAST[action], row.status,
                                                cancel_at_period_end=row.cancel_at_period_end)
            if action is Action.cancel and cancellation is not None:
                values |= {"cancellation_reason": cancellation.reason,
                           "cancellation_comment": cancellation.comment}
            before, before_flag = row.status, row.cancel_at_period_end
            if await self.repo.compare_and_set(
                company_id, sub_id, (before, before_flag), values, self.clock.now()
            ):
                return Transition(row, before, before_flag)
        # Only reachable if other writers won every round; the state last seen is
        # what the caller can act on.
        raise SubscriptionStateConflict(_PAST[action], before,
                                        cancel_at_period_end=before_flag)
