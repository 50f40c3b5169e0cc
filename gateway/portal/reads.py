"""The portal's list fields, read together.

`payments`, `paymentLinks` and `subscriptions` resolve concurrently; each asks this
loader for its rows, and what was asked in one tick is read with one statement
(PortalRepository.lists). A second page of payments in the same query (an alias
with other arguments) costs one more statement, so each field still costs at most one."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from strawberry.dataloader import DataLoader

from gateway.kit.time import Clock
from gateway.payment_link.service import MAX_OPEN_LINKS
from gateway.portal.access import PortalAccess
from gateway.portal.repository import (
    PAYMENT_LINKS,
    PAYMENTS,
    SUBSCRIPTIONS,
    Lists,
    PaymentsPage,
    PortalRepository,
)
from gateway.subscription.service import MAX_LISTED

Need = PaymentsPage | int  # a page of payments, PAYMENT_LINKS or SUBSCRIPTIONS


class PortalReads(DataLoader[Need, list[Any]]):
    def __init__(self, session: AsyncSession, engine: AsyncEngine, clock: Clock,
                 access: PortalAccess) -> None:
        super().__init__(load_fn=self._read)
        self.repo = PortalRepository(session, engine)
        self.clock = clock
        self.access = access
        # One session, one statement at a time, should two batches ever overlap.
        self.lock = asyncio.Lock()

    async def _read(self, needs: Sequence[Need]) -> list[list[Any]]:
        pages = [need for need in needs if isinstance(need, PaymentsPage)]
        wanted = Lists(
            payments=pages[0] if pages else None,
            payment_links=MAX_OPEN_LINKS if PAYMENT_LINKS in needs else None,
            subscriptions=MAX_LISTED if SUBSCRIPTIONS in needs else None,
        )
        access = self.access
        async with self.lock:
            parts = await self.repo.lists(access.company_id, access.match, wanted,
                                          self.clock.now())
            found: dict[Need, list[Any]] = {PAYMENT_LINKS: parts[PAYMENT_LINKS],
                                            SUBSCRIPTIONS: parts[SUBSCRIPTIONS]}
            if pages:
                found[pages[0]] = parts[PAYMENTS]
            for page in pages[1:]:
                more = await self.repo.lists(access.company_id, access.match,
                                             Lists(payments=page), self.clock.now())
                found[page] = more[PAYMENTS]
        return [found[need] for need in needs]
