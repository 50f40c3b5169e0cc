"""GraphQL abuse limits: depth, aliases, tokens, cost, page sizes, batching, the IDE
and introspection per environment, and masked errors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import strawberry
from graphql import get_introspection_query

from gateway.graphql.cost import MAX_COST
from gateway.graphql.schema import MAX_ALIASES, MAX_DEPTH, MAX_TOKENS, GatewaySchema
from tests.factories import create_api_key, create_company
from tests.support import Gateway, error_codes

pytestmark = pytest.mark.parametrize("backend", [("sqlite", "memory")], indirect=True)

PAGE = "customers(first: 100) { edges { node { id uid email name clientId metadata createdAt updatedAt } } }"
PRODUCTION = {"environment": "production", "portal_base_url": "https://makepay.io"}


def aliased(count: int, selection: str = PAGE) -> str:
    return "{ " + " ".join(f"a{i}: {selection}" for i in range(count)) + " }"


async def test_a_query_deeper_than_the_limit_is_refused(gw: Gateway) -> None:
    deep = "{ " + "customers { edges { node { " * 4 + "id" + " } } }" * 4 + " }"
    assert deep.count("{") > MAX_DEPTH

    body = (await gw.gql(deep)).json()

    assert any("exceeds maximum operation depth" in e["message"] for e in body["errors"])
    assert body["data"] is None


async def test_more_aliases_than_the_limit_are_refused(gw: Gateway) -> None:
    body = (await gw.gql(aliased(MAX_ALIASES + 1, "__typename"))).json()

    assert any("aliases" in e["message"].lower() for e in body["errors"])
    assert body["data"] is None


async def test_more_tokens_than_the_limit_are_refused(gw: Gateway) -> None:
    document = "{ " + " ".join(["__typename"] * (MAX_TOKENS + 1)) + " }"

    body = (await gw.gql(document)).json()

    assert any("token" in e["message"].lower() for e in body["errors"])


async def test_a_query_over_the_cost_limit_is_refused_before_it_runs(gw: Gateway) -> None:
    company = await create_company(gw)
    headers = await create_api_key(gw, company)
    # Each full page costs 1,001 (1 + 100 x (edges + node + 8 fields)).
    allowed = await gw.gql(aliased(MAX_COST // 1001), headers=headers)
    refused = await gw.gql(aliased(MAX_COST // 1001 + 1), headers=headers)

    assert "errors" not in allowed.json(), allowed.json()
    body = refused.json()
    assert error_codes(body) == ["QUERY_TOO_COMPLEX"]
    assert body["errors"][0]["extensions"]["maxCost"] == MAX_COST
    assert body["data"] is None


@pytest.mark.parametrize("first", [0, -1, 101, 10_000])
async def test_first_outside_one_to_a_hundred_is_refused(gw: Gateway, first: int) -> None:
    company = await create_company(gw)
    headers = await create_api_key(gw, company)

    literal = await gw.gql(f"{{ customers(first: {first}) {{ edges {{ cursor }} }} }}", headers=headers)
    variable = await gw.gql("query($n: Int!) { customers(first: $n) { edges { cursor } } }",
                            {"n": first}, headers=headers)

    assert error_codes(literal.json()) == ["BAD_REQUEST"]
    assert error_codes(variable.json()) == ["BAD_REQUEST"]


async def test_a_batch_of_operations_is_refused(gw: Gateway) -> None:
    response = await gw.client.post("/graphql", json=[{"query": "{ __typename }"},
                                                      {"query": "{ __typename }"}])

    assert response.status_code == 400
    assert error_codes(response.json()) == ["BAD_REQUEST"]


async def test_introspection_and_graphiql_are_on_in_development(gw: Gateway) -> None:
    introspection = await gw.gql(get_introspection_query(descriptions=True))
    ide = await gw.client.get("/graphql", headers={"accept": "text/html"})

    assert "errors" not in introspection.json()
    assert introspection.json()["data"]["__schema"]["queryType"]["name"] == "Query"
    assert ide.status_code == 200
    assert "graphiql" in ide.text.lower()


async def test_introspection_and_graphiql_are_off_in_production(
    start_gateway: Callable[..., Any],
) -> None:
    gw: Gateway = await start_gateway(**PRODUCTION)

    introspection = await gw.gql("{ __schema { queryType { name } } }")
    ide = await gw.client.get("/graphql", headers={"accept": "text/html"})

    assert introspection.json()["data"] is None
    assert "introspection" in introspection.json()["errors"][0]["message"].lower()
    assert ide.status_code == 405
    assert "graphiql" not in ide.text.lower()


async def test_production_can_turn_introspection_and_graphiql_on(
    start_gateway: Callable[..., Any],
) -> None:
    gw: Gateway = await start_gateway(**PRODUCTION, introspection=True, graphiql=True)

    introspection = await gw.gql("{ __schema { queryType { name } } }")
    ide = await gw.client.get("/graphql", headers={"accept": "text/html"})

    assert introspection.json()["data"]["__schema"]["queryType"]["name"] == "Query"
    assert ide.status_code == 200


@strawberry.type
class _Broken:
    @strawberry.field
    def leak(self) -> str:
        raise RuntimeError('relation "api_keys" does not exist: SELECT secret_hash FROM api_keys')


async def test_an_unexpected_error_is_masked_with_the_request_id(
    start_gateway: Callable[..., Any], caplog: pytest.LogCaptureFixture,
) -> None:
    gw: Gateway = await start_gateway(**PRODUCTION)
    # The served endpoint, given a schema whose resolver fails as a bug would.
    endpoint = next(r for r in gw.app.routes if getattr(r, "path", "") == "/graphql")
    endpoint.endpoint.__self__.schema = GatewaySchema(query=_Broken)  # type: ignore[attr-defined]

    response = await gw.gql("{ leak }", headers={"x-request-id": "req-abc123"})

    body = response.json()
    assert response.status_code == 200
    assert error_codes(body) == ["INTERNAL"]
    assert body["errors"][0]["message"] == "Internal error. Request id: req-abc123."
    assert body["errors"][0]["extensions"]["requestId"] == "req-abc123"
    assert "SELECT" not in response.text
    assert "Traceback" not in response.text
    assert response.headers["x-request-id"] == "req-abc123"
    logged = [r for r in caplog.records if r.name == "gateway.errors"]
    assert logged
    assert "req-abc123" in logged[0].getMessage()


async def test_a_null_for_a_required_input_field_is_a_client_error(gw: Gateway) -> None:
    # Found by the fuzzer: graphql-core's coercion error was masked as INTERNAL.
    company = await create_company(gw)
    headers = await create_api_key(gw, company)

    response = await gw.gql(
        "mutation($input: CreatePaymentLinkInput!) { createPaymentLink(input: $input) { id } }",
        {"input": {"amount": None, "currency": "USD"}}, headers=headers)

    body = response.json()
    assert error_codes(body) == ["BAD_REQUEST"]
    assert "amount" in body["errors"][0]["message"]

