"""Each distinct document is parsed and validated once; the verdict, errors included,
is the same on every later request, and the limits still hold."""

from __future__ import annotations

import pytest

from tests.support import Gateway, error_codes


@pytest.mark.parametrize("repeat", [1, 2, 3])
async def test_an_invalid_document_fails_the_same_way_each_time(gw: Gateway, repeat: int) -> None:
    for _ in range(repeat):
        body = (await gw.gql("{ noSuchField }")).json()
        assert error_codes(body) == ["GRAPHQL_VALIDATION_FAILED"]
        assert "noSuchField" in body["errors"][0]["message"]


async def test_the_depth_limit_holds_for_a_known_document(gw: Gateway) -> None:
    nested = "{ " + "a { " * 12 + "b" + " }" * 12 + " }"
    for _ in range(2):
        body = (await gw.gql(nested)).json()
        assert error_codes(body)[0] == "GRAPHQL_VALIDATION_FAILED"
        assert any("exceeds maximum operation depth" in e["message"] for e in body["errors"])


async def test_the_alias_limit_holds_for_a_known_document(gw: Gateway) -> None:
    aliased = "{ " + " ".join(f"a{i}: __typename" for i in range(16)) + " }"
    for _ in range(2):
        body = (await gw.gql(aliased)).json()
        assert error_codes(body) == ["GRAPHQL_VALIDATION_FAILED"]


async def test_the_token_limit_holds_every_time(gw: Gateway) -> None:
    huge = "{ " + " ".join("__typename" for _ in range(2_100)) + " }"
    for _ in range(2):
        body = (await gw.gql(huge)).json()
        assert error_codes(body) == ["GRAPHQL_VALIDATION_FAILED"]


async def test_introspection_is_refused_where_it_is_off(start_gateway) -> None:  # type: ignore[no-untyped-def]
    gw: Gateway = await start_gateway(introspection=False)
    for _ in range(2):
        body = (await gw.gql("{ __schema { queryType { name } } }")).json()
        assert set(error_codes(body)) == {"GRAPHQL_VALIDATION_FAILED"}
        assert "introspection has been disabled" in body["errors"][0]["message"]


async def test_a_valid_document_runs_each_time(gw: Gateway) -> None:
    for _ in range(3):
        assert await gw.gql_data("{ __typename }") == {"__typename": "Query"}
