"""createPortalLink's one-round-trip path (a key the in-process cache accepts) keeps
the budgets and their order: an IP past its failure budget gets 429 even with a good
key, the key's link budget is spent, and a request refused for its companyId spends
nothing."""

from __future__ import annotations

from tests.factories import create_api_key, create_company, create_customer
from tests.support import Gateway, error_codes

CREATE = """mutation($customerId: ID!, $companyId: ID) {
  createPortalLink(customerId: $customerId, companyId: $companyId) { customer { urls { customerPortal } } }
}"""


def route(customer_id: str) -> str:
    return f"/api/partner/v1/makepay/customers/{customer_id}/portal"


async def test_a_blocked_ip_gets_429_with_a_cached_valid_key(start_gateway) -> None:  # type: ignore[no-untyped-def]
    gw: Gateway = await start_gateway(rate_limit_auth_failures_per_minute=2)
    company = await create_company(gw)
    headers = await create_api_key(gw, company)
    customer = await create_customer(gw, company)
    assert (await gw.client.post(route(customer.uid), headers=headers)).status_code == 200
    wrong = {**headers, "x-makecrypto-key-secret": "not-the-secret"}
    for _ in range(2):
        assert (await gw.client.post(route(customer.uid), headers=wrong)).status_code == 401

    rest = await gw.client.post(route(customer.uid), headers=headers)
    graphql = await gw.gql(CREATE, {"customerId": customer.uid}, headers)

    assert rest.status_code == 429
    assert rest.json()["error"]["code"] == "RATE_LIMITED"
    assert int(rest.headers["retry-after"]) >= 1
    assert graphql.status_code == 429
    assert error_codes(graphql.json()) == ["RATE_LIMITED"]


async def test_the_link_budget_is_spent_on_the_fast_path(start_gateway) -> None:  # type: ignore[no-untyped-def]
    gw: Gateway = await start_gateway(rate_limit_links_per_minute=3)
    company = await create_company(gw)
    headers = await create_api_key(gw, company)
    customer = await create_customer(gw, company)

    first = await gw.client.post(route(customer.uid), headers=headers)
    second = await gw.gql(CREATE, {"customerId": customer.uid}, headers)
    third = await gw.client.post(route(customer.uid), headers=headers)
    fourth = await gw.gql(CREATE, {"customerId": customer.uid}, headers)

    assert [first.headers["ratelimit-remaining"], second.headers["ratelimit-remaining"],
            third.headers["ratelimit-remaining"]] == ["2", "1", "0"]
    assert fourth.status_code == 429
    assert error_codes(fourth.json()) == ["RATE_LIMITED"]


async def test_a_foreign_company_id_is_forbidden_and_spends_no_budget(start_gateway) -> None:  # type: ignore[no-untyped-def]
    gw: Gateway = await start_gateway(rate_limit_links_per_minute=2)
    company = await create_company(gw)
    other = await create_company(gw, "Other")
    headers = await create_api_key(gw, company)
    customer = await create_customer(gw, company)
    # A merchant query authenticates the key (and caches it) without spending links.
    await gw.gql_data("query($id: ID!) { customer(customerId: $id) { uid } }",
                      {"id": customer.uid}, headers)

    refused = await gw.gql(CREATE, {"customerId": customer.uid, "companyId": other.id}, headers)
    allowed = [await gw.gql(CREATE, {"customerId": customer.uid, "companyId": company.id}, headers)
               for _ in range(2)]

    assert error_codes(refused.json()) == ["FORBIDDEN"]
    assert [r.status_code for r in allowed] == [200, 200]
    assert all("errors" not in r.json() for r in allowed)


async def test_an_unknown_customer_is_not_found_on_the_fast_path(gw: Gateway) -> None:
    company = await create_company(gw)
    other = await create_company(gw, "Other")
    headers = await create_api_key(gw, company)
    theirs = await create_customer(gw, other)
    mine = await create_customer(gw, company)
    assert (await gw.client.post(route(mine.uid), headers=headers)).status_code == 200

    by_uid = await gw.client.post(route(theirs.uid), headers=headers)
    by_id = await gw.gql(CREATE, {"customerId": str(theirs.id)}, headers)

    assert by_uid.status_code == 404
    assert error_codes(by_id.json()) == ["NOT_FOUND"]


async def test_a_link_by_uuid_signs_the_customers_uid(gw: Gateway) -> None:
    company = await create_company(gw)
    headers = await create_api_key(gw, company)
    customer = await create_customer(gw, company)

    body = (await gw.client.post(route(str(customer.id)), headers=headers)).json()

    assert body["customer"]["uid"] == customer.uid
    assert f"customer={customer.uid}" in body["customer"]["urls"]["customerPortal"]
    assert body["customer"]["metadata"] == {"source": "api"}
