"""The portal reads the lists its query selects before they resolve: whatever the
shape of the query (fragments, aliases, two pages, directives), the answer is the
one each list gives on its own, and the statements are the customer's plus one for
the lists (one more per extra page of payments)."""

from __future__ import annotations

import gc
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from graphql import parse
from graphql.pyutils import Path

from gateway.graphql import analysis
from gateway.graphql.analysis import selected_subfields
from gateway.graphql.internals import graphql_schema, resolve_info
from gateway.graphql.schema import create_schema
from gateway.kit.cursor import INVALID_CURSOR
from gateway.portal.access import portal_access_service
from gateway.portal.reads import LOOKAHEAD_FIELDS, PortalReads
from gateway.portal.types import Portal
from gateway.rate_limit.limiter import PortalBudget
from tests.factories import create_payment, create_payment_link, create_subscription
from tests.portal.conftest import Tenant
from tests.support import error_codes, sql_statements

NODE = "edges { node { description } } pageInfo { hasNextPage }"


@pytest.fixture
async def stocked(tenant: Tenant) -> Tenant:
    gw, company = tenant.gw, tenant.company
    for n in range(4):
        await create_payment(gw, company, description=f"p{n}")
        await create_payment_link(gw, company, description=f"l{n}",
                                  expires_at=gw.clock.now() + timedelta(days=1))
        await create_subscription(gw, company, plan_name=f"s{n}")
        gw.clock.advance(1)
    await tenant.portal("{ portal { expiresAt } }")  # the link's verification is cached
    return tenant


async def answer(tenant: Tenant, query: str, variables: dict[str, Any] | None = None
                 ) -> tuple[dict[str, Any], list[str]]:
    with sql_statements(tenant.gw.state.engine) as statements:
        body = await tenant.portal(query, variables)
    assert error_codes(body) == [], body
    return body["data"]["portal"], statements


def payments(value: dict[str, Any]) -> list[str]:
    return [edge["node"]["description"] for edge in value["edges"]]


async def test_lists_through_fragments_and_aliases(stocked: Tenant) -> None:
    query = f"""query($n: Int) {{ portal {{ ...Lists
        recent: payments(first: 1) {{ {NODE} }}
        ... on Portal {{ links: paymentLinks {{ description }} }} }} }}
      fragment Lists on Portal {{ payments(first: $n) {{ {NODE} }}
        subscriptions {{ planName }} }}"""
    portal, statements = await answer(stocked, query, {"n": 3})

    assert payments(portal["payments"]) == ["p3", "p2", "p1"]
    assert portal["payments"]["pageInfo"] == {"hasNextPage": True}
    assert payments(portal["recent"]) == ["p3"]
    assert [link["description"] for link in portal["links"]] == ["l3", "l2", "l1", "l0"]
    assert [s["planName"] for s in portal["subscriptions"]] == ["s3", "s2", "s1", "s0"]
    # the customer, the lists with the first page, the second page
    assert len(statements) == 3, statements


async def test_the_same_page_twice_is_read_once(stocked: Tenant) -> None:
    query = f"{{ portal {{ a: payments(first: 2) {{ {NODE} }} b: payments(first: 2) {{ {NODE} }} }} }}"
    portal, statements = await answer(stocked, query)

    assert payments(portal["a"]) == payments(portal["b"]) == ["p3", "p2"]
    assert len(statements) == 2, statements


@pytest.mark.parametrize("skip", [True, False])
async def test_directives_decide_what_is_answered(stocked: Tenant, skip: bool) -> None:
    query = """query($skip: Boolean!) { portal { customer { uid }
        subscriptions @skip(if: $skip) { planName }
        paymentLinks @include(if: $skip) { description } } }"""
    portal, statements = await answer(stocked, query, {"skip": skip})

    assert ("subscriptions" in portal) is not skip
    assert ("paymentLinks" in portal) is skip
    listed = portal.get("subscriptions") or portal.get("paymentLinks")
    assert len(listed) == 4
    assert len(statements) == 2, statements


async def test_a_query_without_lists_reads_only_the_customer(stocked: Tenant) -> None:
    portal, statements = await answer(stocked, "{ portal { customer { uid } company { id } } }")

    assert portal["customer"] == {"uid": stocked.customer.uid}
    assert len(statements) == 1, statements


async def test_a_bad_cursor_is_the_field_s_error(stocked: Tenant) -> None:
    query = f"""query($after: String) {{ portal {{ subscriptions {{ planName }}
        payments(first: 2, after: $after) {{ {NODE} }} }} }}"""
    body = await stocked.portal(query, {"after": "not-a-cursor"})

    assert error_codes(body) == ["BAD_REQUEST"], body
    assert body["errors"][0]["path"] == ["portal", "payments"]
    assert body["errors"][0]["message"] == INVALID_CURSOR


async def test_a_list_not_read_ahead_is_read_when_completed(stocked: Tenant) -> None:
    """Should the lookahead ever miss a list, the field still answers: its value is
    an awaitable that reads it (graphql-core awaits a field's awaitable value)."""
    gw = stocked.gw
    session = gw.state.session_factory()
    try:
        access, _ = await portal_access_service(gw.state, lambda: session).verify(
            stocked.link["x-makepay-portal"], "198.51.100.20", PortalBudget.read)
        reads = PortalReads(lambda: session, gw.state.engine, gw.state.clock, access)
        portal = Portal.build(access, reads)  # nothing read ahead

        subscriptions: Any = portal.subscriptions
        links: Any = portal.payment_links
        assert [s.plan_name for s in await subscriptions] == ["s3", "s2", "s1", "s0"]
        assert [link.description for link in await links] == ["l3", "l2", "l1", "l0"]
    finally:
        await session.close()


async def test_one_document_reads_the_page_its_variables_ask_for(stocked: Tenant) -> None:
    """The lookahead of a document without variables is worked out once; one with
    variables, each time: the same text asks for other pages."""
    query = f"query($n: Int = 2) {{ portal {{ payments(first: $n) {{ {NODE} }} }} }}"
    for variables, expected in (({"n": 1}, ["p3"]), ({"n": 3}, ["p3", "p2", "p1"]),
                                (None, ["p3", "p2"]), ({"n": 1}, ["p3"])):
        portal, statements = await answer(stocked, query, variables)
        assert payments(portal["payments"]) == expected, variables
        assert len(statements) == 2, statements  # read ahead: the customer, the lists

    for first, expected in ((1, ["p3"]), (2, ["p3", "p2"]), (1, ["p3"])):
        literal = f"{{ portal {{ payments(first: {first}) {{ {NODE} }} subscriptions {{ planName }} }} }}"
        portal, statements = await answer(stocked, literal)
        assert payments(portal["payments"]) == expected
        assert len(portal["subscriptions"]) == 4
        assert len(statements) == 2, statements


def test_a_lookahead_leaves_with_its_document() -> None:
    """What the lookahead keeps per document goes when the document does (the document
    cache's bound is the lookahead's)."""
    schema = graphql_schema(create_schema())
    document = parse("{ portal { payments(first: 2) { edges { cursor } } subscriptions { id } } }")
    node = document.definitions[0].selection_set.selections[0]  # type: ignore[attr-defined]
    root = schema.query_type
    assert root is not None
    raw = resolve_info(
        field_name="portal", field_nodes=[node], return_type=root.fields["portal"].type,
        parent_type=root, path=Path(None, "portal", root.name), schema=schema, fragments={},
        root_value=None, operation=document.definitions[0], variable_values={}, context=None,
        is_awaitable=lambda _: False, abort_signal=None, async_helpers=None,
        operation_extensions=None)
    info = SimpleNamespace(_raw_info=raw)
    gc.collect()  # earlier tests' documents
    before = len(analysis._SELECTED)

    first = selected_subfields(info, LOOKAHEAD_FIELDS)
    assert first == (("payments", {"first": 2, "after": None}), ("subscriptions", {}))
    assert selected_subfields(info, LOOKAHEAD_FIELDS) is first  # worked out once
    assert len(analysis._SELECTED) == before + 1

    del document, node, raw, info
    gc.collect()
    assert len(analysis._SELECTED) == before
