"""The portal's list fields, read before they are resolved.

The `portal` resolver looks ahead at its own selection (`selected_needs`): which of
`payments` (with its page arguments), `paymentLinks` and `subscriptions` the query
asks for, through aliases and fragments. It reads them all at once, with one
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
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLObjectType,
    GraphQLResolveInfo,
    InlineFragmentNode,
    SelectionSetNode,
    get_named_type,
)
from graphql.execution.values import VariableValues, get_argument_values
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


def selected_needs(info: GraphQLResolveInfo[Any]) -> list[Need]:
    """The lists the `portal` field's selection asks for, in order, each once."""
    portal_type = get_named_type(info.return_type)
    if not isinstance(portal_type, GraphQLObjectType):
        raise TypeError("selected_needs serves the portal field")
    variable_values: Any = info.variable_values
    if isinstance(variable_values, dict):  # resolve infos carry the coerced values
        variable_values = VariableValues(sources={}, coerced=variable_values)
    needs: list[Need] = []
    payments_field = portal_type.fields["payments"]
    for node in _subfields(info.field_nodes, info.fragments):
        name = node.name.value
        need: Need
        if name == "payments":
            try:
                args = get_argument_values(payments_field, node, variable_values)
                need = payments_page(args["first"], args.get("after"))
            except Exception:  # noqa: S112 (the field reports its own error when it resolves)
                continue
        elif name in _LIST_FIELDS:
            need = _LIST_FIELDS[name]
        else:
            continue
        if need not in needs:
            needs.append(need)
    return needs


def _subfields(field_nodes: Sequence[FieldNode],
               fragments: Mapping[str, FragmentDefinitionNode]) -> Iterator[FieldNode]:
    seen: set[str] = set()

    def walk(selection_set: SelectionSetNode | None) -> Iterator[FieldNode]:
        for selection in selection_set.selections if selection_set else ():
            if isinstance(selection, FieldNode):
                yield selection
            elif isinstance(selection, InlineFragmentNode):
                yield from walk(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = fragments.get(name)
                if fragment is not None and name not in seen:
                    seen.add(name)
                    yield from walk(fragment.selection_set)

    for node in field_nodes:
        yield from walk(node.selection_set)


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
