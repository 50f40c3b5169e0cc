"""Execution on both backends: PostgreSQL with Redis, SQLite with the in-memory store."""

from __future__ import annotations

from tests.factories import create_api_key, create_company, create_customer
from tests.support import Gateway


async def test_several_root_fields_that_read_the_database_in_one_query(gw: Gateway) -> None:
    # Found by the fuzzer: root query fields ran concurrently on one database session.
    company = await create_company(gw)
    headers = await create_api_key(gw, company)
    customer = await create_customer(gw, company)
    query = (f'{{ a: customer(customerId: "{customer.uid}") {{ uid }} '
             f'b: customers(first: 5) {{ edges {{ node {{ uid }} }} }} '
             f'c: customer(customerId: "{customer.id}") {{ email }} }}')

    for _ in range(5):
        body = (await gw.gql(query, headers=headers)).json()
        assert "errors" not in body, body
        assert body["data"]["a"]["uid"] == customer.uid
        assert body["data"]["b"]["edges"][0]["node"]["uid"] == customer.uid
        assert body["data"]["c"]["email"] == customer.email
