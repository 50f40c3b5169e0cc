"""Merchant operations over GraphQL, sent as a merchant backend sends them."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from gateway.models import Customer, Payment, PaymentLink, Subscription
from tests.factories import create_api_key, create_company, create_customer
from tests.support import Gateway, error_codes

CREATE_CUSTOMER = """
mutation($input: CreateCustomerInput!) {
  createCustomer(input: $input) { id uid email name clientId metadata createdAt updatedAt }
}"""
UPDATE_CUSTOMER = """
mutation($id: ID!, $input: UpdateCustomerInput!) {
  updateCustomer(customerId: $id, input: $input) { id name clientId metadata updatedAt }
}"""
CUSTOMERS = """
query($first: Int, $after: String, $email: String, $clientId: String) {
  customers(first: $first, after: $after, email: $email, clientId: $clientId) {
    edges { cursor node { uid email } }
    pageInfo { hasNextPage endCursor }
  }
}"""
RECORD_PAYMENT = """
mutation($input: RecordPaymentInput!) {
  recordPayment(input: $input) { id amount currency status description createdAt }
}"""
CREATE_PAYMENT_LINK = """
mutation($input: CreatePaymentLinkInput!) {
  createPaymentLink(input: $input) { id url amount currency status description expiresAt }
}"""
CREATE_SUBSCRIPTION = """
mutation($input: CreateSubscriptionInput!) {
  createSubscription(input: $input) { id status planName amount currency interval currentPeriodEnd }
}"""


@pytest.fixture
async def merchant(gw: Gateway) -> Gateway:
    company = await create_company(gw)
    gw.default_headers = await create_api_key(gw, company)
    return gw


async def count(gw: Gateway, model: type[Any]) -> int:
    async with gw.state.session_factory() as session:
        return int((await session.execute(select(func.count()).select_from(model))).scalar_one())


class TestCustomers:
    async def test_create_customer(self, merchant: Gateway) -> None:
        data = await merchant.gql_data(CREATE_CUSTOMER, {"input": {
            "email": "  Ada@Example.COM ", "name": "Ada", "clientId": "client_1", "metadata": {"plan": "pro"}}})
        customer = data["createCustomer"]
        assert customer["email"] == "ada@example.com"
        assert customer["uid"].startswith("cus_")
        assert len(customer["uid"]) == 30
        assert (customer["name"], customer["clientId"], customer["metadata"]) == ("Ada", "client_1", {"plan": "pro"})
        assert customer["createdAt"].endswith("Z")

    @pytest.mark.parametrize("bad", [
        {"email": "not-an-email"},
        {"email": "a@example.com", "metadata": [1, 2]},
        {"email": "a@example.com", "name": "x" * 201},
        {"email": "a@example.com", "name": "bell\x07"},
        {"email": "a@example.com", "metadata": {"k": "v" * 9000}},
    ])
    async def test_invalid_input_is_bad_request_and_creates_nothing(
        self, merchant: Gateway, bad: dict[str, Any]
    ) -> None:
        response = await merchant.gql(CREATE_CUSTOMER, {"input": bad})
        assert error_codes(response.json()) == ["BAD_REQUEST"]
        assert await count(merchant, Customer) == 0

    async def test_update_changes_only_sent_fields(self, merchant: Gateway) -> None:
        created = (await merchant.gql_data(CREATE_CUSTOMER, {"input": {
            "email": "a@example.com", "name": "Ada", "clientId": "c1", "metadata": {"a": 1}}}))["createCustomer"]

        updated = (await merchant.gql_data(UPDATE_CUSTOMER, {"id": created["uid"], "input": {"name": "Ada L."}}))["updateCustomer"]
        cleared = (await merchant.gql_data(UPDATE_CUSTOMER, {"id": created["id"], "input": {"clientId": None}}))["updateCustomer"]

        assert (updated["name"], updated["clientId"], updated["metadata"]) == ("Ada L.", "c1", {"a": 1})
        assert (cleared["name"], cleared["clientId"]) == ("Ada L.", None)
        assert cleared["updatedAt"] >= created["updatedAt"]

    async def test_customer_by_uuid_and_uid(self, merchant: Gateway) -> None:
        created = (await merchant.gql_data(CREATE_CUSTOMER, {"input": {"email": "a@example.com"}}))["createCustomer"]
        query = "query($id: ID!) { customer(customerId: $id) { uid } }"
        assert (await merchant.gql_data(query, {"id": created["id"]}))["customer"]["uid"] == created["uid"]
        assert (await merchant.gql_data(query, {"id": created["uid"]}))["customer"]["uid"] == created["uid"]

    async def test_pagination_walks_every_customer_once(self, merchant: Gateway) -> None:
        for i in range(7):
            await merchant.gql_data(CREATE_CUSTOMER, {"input": {"email": f"c{i}@example.com"}})
        seen: list[str] = []
        after = None
        pages = 0
        while True:
            page = (await merchant.gql_data(CUSTOMERS, {"first": 3, "after": after}))["customers"]
            seen += [edge["node"]["email"] for edge in page["edges"]]
            pages += 1
            if not page["pageInfo"]["hasNextPage"]:
                break
            after = page["pageInfo"]["endCursor"]
        assert pages == 3
        assert seen == [f"c{i}@example.com" for i in reversed(range(7))]

    async def test_filters(self, merchant: Gateway) -> None:
        await merchant.gql_data(CREATE_CUSTOMER, {"input": {"email": "a@example.com", "clientId": "x1"}})
        await merchant.gql_data(CREATE_CUSTOMER, {"input": {"email": "b@example.com", "clientId": "x2"}})
        by_email = (await merchant.gql_data(CUSTOMERS, {"email": "B@example.com"}))["customers"]["edges"]
        by_client = (await merchant.gql_data(CUSTOMERS, {"clientId": "x1"}))["customers"]["edges"]
        assert [e["node"]["email"] for e in by_email] == ["b@example.com"]
        assert [e["node"]["email"] for e in by_client] == ["a@example.com"]

    @pytest.mark.parametrize("variables", [{"first": 0}, {"first": 101}, {"after": "garbage!"}])
    async def test_bad_pagination_arguments(self, merchant: Gateway, variables: dict[str, Any]) -> None:
        response = await merchant.gql(CUSTOMERS, variables)
        assert error_codes(response.json()) == ["BAD_REQUEST"]

    async def test_another_company_customers_are_invisible(self, merchant: Gateway) -> None:
        other = await create_company(merchant, "Other")
        victim = await create_customer(merchant, other, email="victim@other.example")
        listing = (await merchant.gql_data(CUSTOMERS, {}))["customers"]["edges"]
        response = await merchant.gql("query($id: ID!) { customer(customerId: $id) { uid } }", {"id": victim.uid})
        update = await merchant.gql(UPDATE_CUSTOMER, {"id": str(victim.id), "input": {"name": "pwned"}})
        assert listing == []
        assert error_codes(response.json()) == ["NOT_FOUND"]
        assert error_codes(update.json()) == ["NOT_FOUND"]
        async with merchant.state.session_factory() as session:
            assert (await session.get(Customer, victim.id)).name == "Ada Lovelace"  # type: ignore[union-attr]


class TestPayments:
    async def test_record_payment_keeps_the_exact_amount(self, merchant: Gateway) -> None:
        data = await merchant.gql_data(RECORD_PAYMENT, {"input": {
            "email": "a@example.com", "amount": "0.000000000000000001", "currency": "ETH",
            "status": "paid", "description": "dust"}})
        payment = data["recordPayment"]
        assert payment["amount"] == "0.000000000000000001"
        assert (payment["currency"], payment["status"]) == ("ETH", "paid")
        async with merchant.state.session_factory() as session:
            row = (await session.execute(select(Payment))).scalar_one()
        assert str(row.amount.normalize()) == "1E-18"

    async def test_amount_is_shown_in_the_currency_precision(self, merchant: Gateway) -> None:
        data = await merchant.gql_data(RECORD_PAYMENT, {"input": {
            "clientId": "c1", "amount": "49", "currency": "USD", "status": "pending"}})
        assert data["recordPayment"]["amount"] == "49.00"

    @pytest.mark.parametrize("bad", [
        {"amount": "49.001", "currency": "USD", "status": "paid", "email": "a@example.com"},
        {"amount": "-1", "currency": "USD", "status": "paid", "email": "a@example.com"},
        {"amount": "0", "currency": "USD", "status": "paid", "email": "a@example.com"},
        {"amount": "1e3", "currency": "USD", "status": "paid", "email": "a@example.com"},
        {"amount": "NaN", "currency": "USD", "status": "paid", "email": "a@example.com"},
        {"amount": "1" + "0" * 30 + ".5", "currency": "USD", "status": "paid", "email": "a@example.com"},
        {"amount": "0.0000000000000000001", "currency": "ETH", "status": "paid", "email": "a@example.com"},
        {"amount": "10", "currency": "usd", "status": "paid", "email": "a@example.com"},
        {"amount": "10", "currency": "XYZ", "status": "paid", "email": "a@example.com"},
        {"amount": "10", "currency": "USD", "status": "done", "email": "a@example.com"},
        {"amount": "10", "currency": "USD", "status": "paid"},
    ])
    async def test_invalid_payments_are_refused(self, merchant: Gateway, bad: dict[str, Any]) -> None:
        response = await merchant.gql(RECORD_PAYMENT, {"input": bad})
        assert error_codes(response.json()) == ["BAD_REQUEST"]
        assert await count(merchant, Payment) == 0


class TestPaymentLinks:
    async def test_create_payment_link(self, merchant: Gateway) -> None:
        data = await merchant.gql_data(CREATE_PAYMENT_LINK, {"input": {
            "email": "a@example.com", "amount": "99.00", "currency": "USDC",
            "description": "Invoice", "expiresAt": "2099-01-01T00:00:00.000Z"}})
        link = data["createPaymentLink"]
        assert link["status"] == "active"
        assert link["url"] == f"https://pay.makepay.io/pay/{link['id']}"
        assert (link["amount"], link["expiresAt"]) == ("99.000000", "2099-01-01T00:00:00.000Z")

    async def test_expiry_in_the_past_is_refused(self, merchant: Gateway) -> None:
        response = await merchant.gql(CREATE_PAYMENT_LINK, {"input": {
            "email": "a@example.com", "amount": "1", "currency": "USD", "expiresAt": "2001-01-01T00:00:00Z"}})
        assert error_codes(response.json()) == ["BAD_REQUEST"]
        assert await count(merchant, PaymentLink) == 0

    async def test_malformed_expiry_is_refused(self, merchant: Gateway) -> None:
        response = await merchant.gql(CREATE_PAYMENT_LINK, {"input": {
            "email": "a@example.com", "amount": "1", "currency": "USD", "expiresAt": "tomorrow"}})
        assert error_codes(response.json()) == ["BAD_REQUEST"]


class TestSubscriptions:
    async def test_create_subscription_matched_by_metadata_client_id(self, merchant: Gateway) -> None:
        data = await merchant.gql_data(CREATE_SUBSCRIPTION, {"input": {
            "metadata": {"clientId": "client_9"}, "planName": "Pro", "amount": "49.00",
            "currency": "USD", "interval": "month"}})
        subscription = data["createSubscription"]
        assert (subscription["status"], subscription["interval"]) == ("active", "month")
        async with merchant.state.session_factory() as session:
            row = (await session.execute(select(Subscription))).scalar_one()
        assert row.client_id == "client_9"

    @pytest.mark.parametrize("bad", [
        {"email": "a@example.com", "planName": "Pro", "amount": "1", "currency": "USD", "interval": "fortnight"},
        {"email": "a@example.com", "planName": "Pro", "amount": "1", "currency": "USD", "interval": "month", "status": "zombie"},
        {"email": "a@example.com", "planName": " ", "amount": "1", "currency": "USD", "interval": "month"},
        {"planName": "Pro", "amount": "1", "currency": "USD", "interval": "month"},
        {"metadata": {"clientId": 5}, "planName": "Pro", "amount": "1", "currency": "USD", "interval": "month"},
    ])
    async def test_invalid_subscriptions_are_refused(self, merchant: Gateway, bad: dict[str, Any]) -> None:
        response = await merchant.gql(CREATE_SUBSCRIPTION, {"input": bad})
        assert error_codes(response.json()) == ["BAD_REQUEST"]
        assert await count(merchant, Subscription) == 0


async def test_merchant_operations_need_a_key(gw: Gateway) -> None:
    for document, variables in [
        (CREATE_CUSTOMER, {"input": {"email": "a@example.com"}}),
        (CUSTOMERS, {}),
        (RECORD_PAYMENT, {"input": {"email": "a@example.com", "amount": "1", "currency": "USD", "status": "paid"}}),
    ]:
        response = await gw.gql(document, variables)
        assert error_codes(response.json()) == ["UNAUTHENTICATED"]
    assert await count(gw, Customer) == 0
