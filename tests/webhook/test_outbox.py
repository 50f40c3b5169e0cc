"""The outbox's leases (contract section 10: at least once, never the same attempt
twice at the same time), on each database, below the worker."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlmodel import col, select

from gateway.models import WebhookAttempt, WebhookDelivery
from gateway.webhook.outbox import Outcome, claim, fan_out, record
from tests.portal.conftest import Tenant
from tests.webhook.support import create_endpoint

LEASE = timedelta(seconds=35)
FIVE_DAYS = 5 * 86400


class TestLeases:
    async def test_an_outcome_from_an_expired_lease_does_not_overwrite_the_next_claim(
        self, tenant: Tenant
    ) -> None:
        gw = tenant.gw
        await create_endpoint(tenant, "http://127.0.0.1:9/hooks")
        await tenant.portal('mutation { updatePortalDisplayName(name: "Ada K") { name } }')
        now = gw.clock.now()
        async with gw.state.session_factory() as session:
            assert await fan_out(session, now) == 1
            [first] = await claim(session, now, now + LEASE, 10)
            await session.commit()
        async with gw.state.session_factory() as session:
            assert await claim(session, now, now + LEASE, 10) == []  # leased: nobody else
        later = now + LEASE + timedelta(seconds=1)
        async with gw.state.session_factory() as session:
            [second] = await claim(session, later, later + LEASE, 10)  # the lease ran out
            await session.commit()
        assert second.delivery_id == first.delivery_id
        assert second.lease_token != first.lease_token

        async with gw.state.session_factory() as session:
            await record(session, [Outcome(first, True, 200, 5, None, None, later, None)],
                         FIVE_DAYS)
            await session.commit()
        assert await _delivery(tenant, first.delivery_id) == ("pending", 0, second.lease_token)

        async with gw.state.session_factory() as session:
            await record(session, [Outcome(second, True, 204, 5, None, None, later, None)],
                         FIVE_DAYS)
            await session.commit()
        assert await _delivery(tenant, first.delivery_id) == ("delivered", 1, None)
        async with gw.state.session_factory() as session:
            codes = (await session.execute(
                select(col(WebhookAttempt.status_code))
                .where(col(WebhookAttempt.delivery_id) == first.delivery_id))).scalars()
            assert sorted(codes) == [200, 204]  # both attempts were made: both are logged


async def _delivery(tenant: Tenant, delivery_id: uuid.UUID) -> tuple[str, int, uuid.UUID | None]:
    async with tenant.gw.state.session_factory() as session:
        row = (await session.execute(
            select(col(WebhookDelivery.status), col(WebhookDelivery.attempts),
                   col(WebhookDelivery.lease_token))
            .where(col(WebhookDelivery.id) == delivery_id))).one()
    return row[0], row[1], row[2]
