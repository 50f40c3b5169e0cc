"""GRAPHQL_FAST_PATH on and off give the same answers over the real schema.

Two gateways share one database, one Redis and one clock: one runs the gateway's
own execution, the other stock Strawberry execution. The fuzzer's documents
(merchant queries with an API key, the portal with valid, expired, tampered and
missing links, dashboard sessions, and documents with one schema violation,
mutations included) and hand-written documents for what the fuzzer does not draw
(directives on fragments, variables inside nested arguments, operationName choice,
bad variables) go to both; the HTTP status, `data` and every error (message, path,
locations, code) must be equal. Only reads are compared field by field: a write
run twice would not answer the same the second time, whichever path ran it."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import strategies as st
from hypothesis_graphql import Mode

from tests.dashboard.conftest import CHEAP_HASHING, OWNER, PASSWORD, sign_in
from tests.drawn import examples
from tests.factories import create_customer, create_user
from tests.fuzz.test_graphql_fuzz import (
    MERCHANT_FIELDS,
    PRODUCTION,
    SCHEMA,
    check_response,
    documents,
)
from tests.fuzz.test_portal_fuzz import PORTAL_SCALARS
from tests.portal.conftest import link_header, make_tenant
from tests.support import Gateway

pytestmark = pytest.mark.parametrize("backend", [("postgres", "redis")], indirect=True)

CASES = 120
QUERY_FIELDS = [name for name in MERCHANT_FIELDS if name in SCHEMA.query_type.fields]
ALL_FIELDS = [*SCHEMA.query_type.fields, *SCHEMA.mutation_type.fields]
REQUEST_ID = re.compile(r"[0-9a-f]{32}")

# What the fuzzer does not draw, over the real schema.
HANDWRITTEN: list[tuple[str, dict[str, Any] | None, str | None]] = [
    # Directives on fragment spreads and inline fragments.
    ("query($on: Boolean!) { portal { ...C @include(if: $on) ... on Portal @skip(if: $on) "
     "{ expiresAt } customer { id } } } fragment C on Portal { company { name } }",
     {"on": True}, None),
    ("query($on: Boolean!) { portal { ...C @include(if: $on) ... on Portal @skip(if: $on) "
     "{ expiresAt } customer { id } } } fragment C on Portal { company { name } }",
     {"on": False}, None),
    # Variables inside nested arguments and lists of them.
    ("query($n: Int!, $a: String) { portal { payments(first: $n, after: $a) { edges { cursor "
     "node { id amount } } pageInfo { hasNextPage endCursor } } } }", {"n": 2, "a": None}, None),
    ("query($n: Int!) { portal { payments(first: $n) { edges { cursor } } } }",
     {"n": "two"}, None),
    ("query($n: Int!) { portal { payments(first: $n) { edges { cursor } } } }",
     {"n": 0}, None),
    # operationName choosing among several operations, or missing.
    ("query A { portal { expiresAt } } query B { portal { customer { email } } }", None, "B"),
    ("query A { portal { expiresAt } } query B { portal { customer { email } } }", None, "A"),
    ("query A { portal { expiresAt } } query B { portal { customer { email } } }", None, None),
    ("query A { portal { expiresAt } }", None, "C"),
    # Aliases of one field, the same key twice, typename at every level.
    ("{ a: portal { expiresAt } b: portal { __typename customer { __typename id } } }",
     None, None),
    ("{ portal { customer { id } customer { email } subscriptions { id } } }", None, None),
]


class Pair:
    def __init__(self, on: Gateway, off: Gateway) -> None:
        self.on, self.off = on, off
        self.compared = 0

    async def compare(self, document: str, variables: dict[str, Any] | None = None,
                      operation_name: str | None = None,
                      headers: dict[str, str] | None = None) -> None:
        payload = {"query": document, "variables": variables, "operationName": operation_name}
        answers = []
        for gateway in (self.on, self.off):
            response = await gateway.client.post("/graphql", json=payload, headers=headers or {})
            body = response.json()
            check_response(response.status_code, body, f"{document}\n{json.dumps(variables)}",
                           response.text)
            answers.append((response.status_code, REQUEST_ID.sub("<id>", response.text)))
        assert answers[0] == answers[1], f"{document}\n{variables}\n{operation_name}"
        self.compared += 1


@pytest.fixture
async def pair(start_gateway: Callable[..., Any]) -> Pair:
    on: Gateway = await start_gateway(**PRODUCTION, **CHEAP_HASHING, graphql_fast_path=True)
    off: Gateway = await start_gateway(**PRODUCTION, **CHEAP_HASHING, graphql_fast_path=False,
                                       clock=on.clock)
    return Pair(on, off)


async def test_merchant_and_dashboard_reads_answer_alike(pair: Pair) -> None:
    tenant = await make_tenant(pair.on)
    await create_customer(pair.on, tenant.company, email="second@example.com", client_id=None)
    await create_user(pair.on, OWNER, PASSWORD, grants={tenant.company.id: ["settings.manage"]})
    browser = await sign_in(pair.on)
    auths = {"key": tenant.api_key, "dashboard": browser.headers(), "none": {},
             "wrong": {**tenant.api_key, "x-makecrypto-key-secret": "wrong"}}
    cases = examples(st.tuples(documents(Mode.POSITIVE, QUERY_FIELDS),
                               st.sampled_from(["key"] * 5 + ["dashboard", "none", "wrong"])),
                     CASES)
    for document, auth in cases:
        document = document.replace("@uid0@", tenant.customer.uid)
        await pair.compare(document, headers=auths[auth])

    assert pair.compared == CASES


async def test_portal_reads_answer_alike(pair: Pair) -> None:
    tenant = await make_tenant(pair.on)
    pair.on.clock.advance(-2 * 86_400)
    expired = link_header(pair.on, tenant.company.id, tenant.customer.uid)
    pair.on.clock.advance(2 * 86_400)
    genuine = tenant.link["x-makepay-portal"]
    links = [tenant.link, tenant.link, tenant.link, expired, {},
             {"x-makepay-portal": genuine.replace("expires=", "expires=1")}]
    cases = examples(st.tuples(documents(Mode.POSITIVE, ["portal"], PORTAL_SCALARS),
                               st.sampled_from(range(len(links)))), CASES)
    for document, link in cases:
        await pair.compare(document, headers=links[link])
    for document, variables, operation_name in HANDWRITTEN:
        for link in (tenant.link, {}):
            await pair.compare(document, variables, operation_name, headers=link)

    assert pair.compared == CASES + 2 * len(HANDWRITTEN)


async def test_documents_with_one_violation_answer_alike(pair: Pair) -> None:
    tenant = await make_tenant(pair.on)
    for document in examples(documents(Mode.NEGATIVE, ALL_FIELDS), CASES):
        await pair.compare(document, headers=tenant.api_key)

    assert pair.compared == CASES
