"""What a document costs before authentication is bounded: repeated response names,
oversized selections and undefined fragments are refused before validation, each
refusal charged to the client IP's failure budget; and documents the gateway cannot
run are refused with a message a client can act on."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest

from gateway.graphql.analysis import MAX_REPEATED_NAME, MAX_SELECTION_FIELDS
from gateway.graphql.schema import MAX_TOKENS
from tests.factories import create_api_key, create_company
from tests.support import Gateway, error_codes

pytestmark = pytest.mark.parametrize("backend", [("sqlite", "memory"), ("postgres", "redis")],
                                     indirect=True)


def fresh(document: str) -> str:
    """A comment no other request had: the document cache cannot answer it."""
    return f"# {uuid.uuid4().hex}\n{document}"


def repeated(count: int, field: str = "__typename") -> str:
    return "{ " + " ".join([field] * count) + " }"


async def test_a_response_name_repeated_many_times_is_refused(gw: Gateway) -> None:
    document = repeated(MAX_TOKENS - 10)

    body = (await gw.gql(fresh(document))).json()

    assert error_codes(body) == ["BAD_REQUEST"]
    assert body["errors"][0]["message"] == (
        f"'__typename' is selected more than {MAX_REPEATED_NAME} times in one selection. "
        "Select each field once.")
    assert body["data"] is None


async def test_a_name_repeated_through_fragments_is_refused(gw: Gateway) -> None:
    spreads = " ".join(f"...F{i}" for i in range(MAX_REPEATED_NAME + 1))
    fragments = " ".join(f"fragment F{i} on Query {{ __typename }}"
                         for i in range(MAX_REPEATED_NAME + 1))

    body = (await gw.gql(fresh(f"{{ {spreads} }} {fragments}"))).json()

    assert error_codes(body) == ["BAD_REQUEST"]
    assert "'__typename' is selected more than" in body["errors"][0]["message"]


async def test_a_selection_of_too_many_fields_is_refused(gw: Gateway) -> None:
    fields = " ".join(f"f{i}" for i in range(MAX_SELECTION_FIELDS + 1))

    body = (await gw.gql(fresh("{ " + fields + " }"))).json()

    assert error_codes(body) == ["BAD_REQUEST"]
    assert f"more than {MAX_SELECTION_FIELDS} fields" in body["errors"][0]["message"]


async def test_a_few_repetitions_still_run(gw: Gateway) -> None:
    assert await gw.gql_data(repeated(MAX_REPEATED_NAME)) == {"__typename": "Query"}


async def test_refused_documents_spend_the_ip_failure_budget(
    start_gateway: Callable[..., Any],
) -> None:
    gw: Gateway = await start_gateway(rate_limit_auth_failures_per_minute=3)
    company = await create_company(gw)
    headers = await create_api_key(gw, company)
    document = repeated(MAX_REPEATED_NAME + 1)

    answers = [await gw.gql(fresh(document)) for _ in range(4)]

    assert [error_codes(a.json()) for a in answers[:3]] == [["BAD_REQUEST"]] * 3
    assert answers[3].status_code == 429
    assert error_codes(answers[3].json()) == ["RATE_LIMITED"]
    # The same budget as failed authentications: this IP's valid key is refused too.
    keyed = await gw.gql("{ customers(first: 1) { edges { cursor } } }", headers=headers)
    assert error_codes(keyed.json()) == ["RATE_LIMITED"]
    # Past the budget, even a valid document from this IP is refused unread until the
    # window ends; another IP is served.
    assert error_codes((await gw.gql("{ __typename }")).json()) == ["RATE_LIMITED"]
    gw.clock.advance(61)
    assert await gw.gql_data("{ __typename }") == {"__typename": "Query"}


async def test_a_document_over_the_token_limit_spends_the_budget(
    start_gateway: Callable[..., Any],
) -> None:
    gw: Gateway = await start_gateway(rate_limit_auth_failures_per_minute=2)

    answers = [await gw.gql(fresh(repeated(MAX_TOKENS + 1))) for _ in range(3)]

    assert [error_codes(a.json()) for a in answers[:2]] == [["GRAPHQL_VALIDATION_FAILED"]] * 2
    assert "tokens" in answers[0].json()["errors"][0]["message"]
    assert error_codes(answers[2].json()) == ["RATE_LIMITED"]


async def test_an_undefined_fragment_is_a_bad_request(gw: Gateway) -> None:
    body = (await gw.gql("{...Undefined}")).json()

    assert error_codes(body) == ["BAD_REQUEST"]
    assert body["errors"][0]["message"] == "The document spreads an undefined fragment 'Undefined'."


async def test_a_subscription_is_a_bad_request(gw: Gateway) -> None:
    response = await gw.gql("subscription { __typename }")

    body = response.json()
    assert response.status_code == 400
    assert error_codes(body) == ["BAD_REQUEST"]
    assert body["errors"][0]["message"] == ("Subscriptions are not supported: send a query "
                                            "or a mutation.")


async def test_a_mutation_over_get_is_a_bad_request(gw: Gateway) -> None:
    response = await gw.client.get("/graphql", params={"query": "mutation { __typename }"})

    body = response.json()
    assert response.status_code == 400
    assert error_codes(body) == ["BAD_REQUEST"]
    assert body["errors"][0]["message"] == ("Only queries can be sent with GET: send a "
                                            "mutation with POST.")


async def test_several_operations_without_a_name_run_nothing(gw: Gateway) -> None:
    company = await create_company(gw)
    headers = await create_api_key(gw, company)
    create = ('mutation Create { createCustomer(input: {email: "a@example.com", '
              'name: "A"}) { id } }')
    count = "query Count { customers(first: 10) { edges { cursor } } }"

    body = (await gw.gql(f"{create} {count}", headers=headers)).json()

    assert error_codes(body) == ["BAD_REQUEST"]
    assert "operationName" in body["errors"][0]["message"]
    assert body["data"] is None
    listed = (await gw.client.post("/graphql", json={"query": f"{create} {count}",
                                                     "operationName": "Count"},
                                   headers=headers)).json()
    assert listed["data"]["customers"]["edges"] == []


async def test_an_unknown_operation_name_is_a_bad_request(gw: Gateway) -> None:
    response = await gw.client.post("/graphql", json={"query": "query A { __typename }",
                                                      "operationName": "B"})

    body = response.json()
    assert error_codes(body) == ["BAD_REQUEST"]
    assert body["errors"][0]["message"] == "The document has no operation named 'B'."


async def test_production_errors_suggest_no_names(start_gateway: Callable[..., Any]) -> None:
    gw: Gateway = await start_gateway(environment="production",
                                      portal_base_url="https://makepay.io")
    company = await create_company(gw)
    headers = await create_api_key(gw, company)

    unknown = (await gw.gql("{ custmers { id } }", headers=headers)).json()
    coerced = (await gw.gql("mutation($i: CreateCustomerInput!) { createCustomer(input: $i) "
                            "{ id } }", {"i": {"emai": "a@example.com"}},
                            headers=headers)).json()

    assert error_codes(unknown) == ["GRAPHQL_VALIDATION_FAILED"]
    for body in (unknown, coerced):
        assert body["errors"], body
        assert all("Did you mean" not in e["message"] for e in body["errors"]), body


async def test_development_errors_keep_their_suggestions(gw: Gateway) -> None:
    unknown = (await gw.gql("{ custmers { id } }")).json()
    coerced = (await gw.gql("mutation($i: CreateCustomerInput!) { createCustomer(input: $i) "
                            "{ id } }", {"i": {"emai": "a@example.com"}})).json()

    assert "Did you mean" in unknown["errors"][0]["message"]
    assert any("Did you mean" in e["message"] for e in coerced["errors"]), coerced


async def test_words_in_comments_and_strings_are_not_counted_as_tokens(gw: Gateway) -> None:
    words = " ".join(["word"] * MAX_TOKENS)

    commented = (await gw.gql(f"# {words}\n{{ __typename }}\n# {words}")).json()
    quoted = (await gw.gql(f'{{ customers(email: "{words}") {{ edges {{ cursor }} }} }}')).json()

    assert commented == {"data": {"__typename": "Query"}}
    assert error_codes(quoted) == ["UNAUTHENTICATED"]
