"""The portal's list fields, read before they are resolved.

The `portal` resolver looks ahead at its own selection (`selected_needs`, given the
selected subfields by the GraphQL layer): which of `payments` (with its page
arguments), `paymentLinks` and `subscriptions` the query asks for, through aliases
and fragments. It reads them all at once, with one
statement (PortalRepository.lists; a second page of payments under another alias
costs one more), and the list fields then resolve synchronously from what was read.

Before, the three fields were async resolvers batched by a DataLoader: the reads
were the same, but each field cost a task, a future and a gather, and the loader a
dispatch task, which showed in the profile as more CPU than the statement itself.

The lookahead only decides what is read early. A field it did not foresee (which
the walk below does not leave out, but the resolvers do not rely on it) is read when
it resolves, as before; a field it read that the query then skips (@skip/@include
are not evaluated here) costs a read and nothing else."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from gateway.kit.cursor import check_page_size, decode_cursor
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

_LIST_FIELDS = {"paymentLinks": PAYMENT_LINKS, "subscriptions": SUBSCRIPTIONS}


def payments_page(first: int, after: str | None) -> PaymentsPage:
    """The read behind `payments(first, after)`: one row more than the page, to tell
    whether a next page exists. Raises BadRequest for a bad `first` or cursor."""
    return PaymentsPage(check_page_size(first) + 1, decode_cursor(after) if after else None)


# The portal's subfields the lookahead reads for.
LOOKAHEAD_FIELDS = frozenset({"payments", *_LIST_FIELDS})


def selected_needs(selected: Iterable[tuple[str, Mapping[str, Any] | None]]) -> list[Need]:
    """The lists the `portal` field's selection asks for, in order, each once:
    `selected` holds its subfields named in LOOKAHEAD_FIELDS with their arguments
    (None: arguments that do not coerce)."""
    needs: list[Need] = []
    for name, args in selected:
        need: Need
        if name == "payments":
            if args is None:
                continue  # the field reports its own error when it resolves
            try:
                need = payments_page(args["first"], args.get("after"))
            except Exception:  # noqa: S112 (likewise)
                continue
        else:
            need = _LIST_FIELDS[name]
        if need not in needs:
            needs.append(need)
    return needs


class PortalReads:
    """The lists of one portal request: read ahead (`read_ahead`), or on demand."""

    def __init__(self, sessions: Callable[[], AsyncSession], engine: AsyncEngine,
                 clock: Clock, access: PortalAccess) -> None:
        # The request's session, made on first use: only SQLite reads through it.
        self.repo = PortalRepository(sessions, engine)
        self.clock = clock
        self.access = access
        self.found: dict[Need, list[Any]] = {}
        # One session, one statement at a time, should two on-demand reads overlap.
        self.lock = asyncio.Lock()

    async def read_ahead(self, needs: Sequence[Need]) -> None:
        """Reads every need not read yet: one statement for the first page of
        payments and the other lists, one more per further page."""
        if all(need in self.found for need in needs):
            return
        async with self.lock:
            await self._read([need for need in needs if need not in self.found])

    async def _read(self, wanted: list[Need]) -> None:
        if not wanted:
            return
        pages = [need for need in wanted if isinstance(need, PaymentsPage)]
        access, now = self.access, self.clock.now()
        lists = Lists(
            payments=pages[0] if pages else None,
            payment_links=MAX_OPEN_LINKS if PAYMENT_LINKS in wanted else None,
            subscriptions=MAX_LISTED if SUBSCRIPTIONS in wanted else None,
        )
        parts = await self.repo.lists(access.company_id, access.match, lists, now)
        if lists.payment_links is not None:
            self.found[PAYMENT_LINKS] = parts[PAYMENT_LINKS]
        if lists.subscriptions is not None:
            self.found[SUBSCRIPTIONS] = parts[SUBSCRIPTIONS]
        if pages:
            self.found[pages[0]] = parts[PAYMENTS]
        for page in pages[1:]:
            more = await self.repo.lists(access.company_id, access.match,
                                         Lists(payments=page), now)
            self.found[page] = more[PAYMENTS]

    async def load(self, need: Need) -> list[Any]:
        """A need the lookahead did not read."""
        await self.read_ahead([need])
        return self.found[need]
