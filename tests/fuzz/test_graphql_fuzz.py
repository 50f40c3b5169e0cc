"""Schema-driven fuzzing of the merchant GraphQL API, in production mode, over HTTP
into the real app on PostgreSQL and Redis.

Documents come from the served schema (hypothesis-graphql): valid ones with random
arguments, and ones with exactly one schema violation. Strings are biased towards
values the services accept (amounts, currencies, statuses, e-mail addresses) so that
creates succeed and deeper code runs; IDs are drawn from real customers as well as
garbage. Whatever comes in: no 5xx, no INTERNAL error, nothing internal in a message,
and afterwards the database holds exactly what the successful mutations reported."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable
from typing import Any

import graphql
import orjson
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import Mode, from_schema, nodes
from sqlalchemy import func, select

from gateway.graphql.schema import create_schema
from gateway.kit import validate
from gateway.kit.money import CURRENCIES
from gateway.models import Customer, Payment, PaymentLink, Subscription
from gateway.models.payment import PAYMENT_STATUSES
from gateway.models.payment_link import PAYMENT_LINK_STATUSES
from gateway.models.subscription import INTERVALS, SUBSCRIPTION_STATUSES
from tests.factories import create_api_key, create_company, create_customer
from tests.support import Gateway

pytestmark = pytest.mark.parametrize("backend", [("postgres", "redis")], indirect=True)

POSITIVE_CASES = 300
NEGATIVE_CASES = 150
VARIABLE_CASES = 200
SCHEMA = create_schema()._schema  # the served schema, as graphql-core sees it
MERCHANT_FIELDS = [*SCHEMA.query_type.fields, *SCHEMA.mutation_type.fields]
PRODUCTION = {"environment": "production", "rate_limit_links_per_minute": 100_000,
              "rate_limit_auth_failures_per_minute": 100_000}
# The fuzzer sends no portal link, so the portal's fields answer PORTAL_LINK_INVALID.
KNOWN_CODES = {"BAD_REQUEST", "UNAUTHENTICATED", "FORBIDDEN", "NOT_FOUND", "CONFLICT",
               "RATE_LIMITED", "GRAPHQL_VALIDATION_FAILED", "QUERY_TOO_COMPLEX",
               "PAYLOAD_TOO_LARGE", "PORTAL_LINK_INVALID"}
INTERNALS = re.compile(r"Traceback|File \"|sqlalchemy|asyncpg|aiosqlite|psycopg|redis\.|"
                       r"\bSELECT\b|\bINSERT\b|\bUPDATE\b|\bWHERE\b|0x[0-9a-f]{6,}|Error\(",
                       re.IGNORECASE)
CUSTOMER_SLOTS = ("@uid0@", "@uuid0@", "@uid1@", "@other@")
USEFUL_STRINGS = ["49.00", "0.01", "1000000", "0", "-1", "1e3", "NaN", "49.001", "USD", "EUR",
                  "BTC", "ETH", "usd", "XXX", "paid", "pending", "failed", "refunded", "active",
                  "paused", "cancelled", "trialing", "month", "year", "day", "week",
                  "buyer@example.com", "new@example.com", "not-an-email", "client_1042", "Pro",
                  "2026-04-20T10:00:00.000Z", "", " ", "\u0000", "a" * 300]

strings = st.one_of(st.sampled_from(USEFUL_STRINGS), st.text(max_size=40))
json_values = st.recursive(
    st.one_of(st.none().map(lambda _: graphql.NullValueNode()), strings.map(nodes.String),
              st.integers(-(2**40), 2**40).map(nodes.Int), st.booleans().map(nodes.Boolean)),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3).map(nodes.List),
        st.dictionaries(st.text("abcdefxyz", min_size=1, max_size=8), inner, max_size=3).map(
            lambda d: nodes.Object([graphql.ObjectFieldNode(name=graphql.NameNode(value=k),
                                                            value=v) for k, v in d.items()]))),
    max_leaves=6,
)
SCALARS = {
    "String": strings.map(nodes.String),
    "ID": st.one_of(st.sampled_from(CUSTOMER_SLOTS), st.text(max_size=40)).map(nodes.String),
    "DateTime": st.one_of(
        st.datetimes().map(lambda d: d.isoformat() + "Z"), st.text(max_size=30)).map(nodes.String),
    "JSON": json_values,
}


def documents(mode: Mode) -> st.SearchStrategy[str]:
    return from_schema(SCHEMA, fields=MERCHANT_FIELDS, custom_scalars=SCALARS, mode=mode)


def leaks(answer: str, request: str) -> list[str]:
    """Internal details in an answer, other than what the request itself sent (errors
    may quote the client's input, which the fuzzer fills with such words)."""
    return [m.group(0) for m in INTERNALS.finditer(answer)
            if m.group(0).lower() not in request.lower()]


def check_response(status: int, body: Any, request: str, text: str) -> Counter[str]:
    """The response is well-formed and reveals nothing; returns the codes it carries."""
    detail = f"{request}\n{status} {text}"
    assert status < 500, detail
    assert isinstance(body, dict), detail
    assert leaks(orjson.dumps(body.get("errors")).decode(), request) == [], detail
    codes: Counter[str] = Counter()
    for error in body.get("errors") or []:
        code = error["extensions"]["code"]
        assert code in KNOWN_CODES, detail
        codes[code] += 1
    return codes


def examples(strategy: st.SearchStrategy[Any], count: int) -> list[Any]:
    """`count` values of `strategy`, the same on every run (the ci profile is derandomized)."""
    drawn: list[Any] = []

    @settings(max_examples=count, suppress_health_check=list(HealthCheck), phases=[Phase.generate])
    @given(strategy)
    def draw(value: Any) -> None:
        drawn.append(value)

    draw()
    return drawn


class Fuzz:
    def __init__(self, gw: Gateway, company_id: str, headers: dict[str, str],
                 ids: dict[str, str]) -> None:
        self.gw = gw
        self.company_id = company_id
        self.headers = headers
        self.ids = ids
        self.created: Counter[str] = Counter()
        self.cases = 0

    async def send(self, document: str, variables: dict[str, Any] | None = None,
                   auth: str = "valid") -> dict[str, Any]:
        for slot, value in self.ids.items():
            document = document.replace(slot, value)
        headers = {"valid": self.headers, "none": {},
                   "wrong": {**self.headers, "x-makecrypto-key-secret": "wrong"}}[auth]
        response = await self.gw.client.post(
            "/graphql", json={"query": document, "variables": variables}, headers=headers)
        self.cases += 1
        body = response.json()
        check_response(response.status_code, body, f"{document}\n{json.dumps(variables)}",
                       response.text)
        return body  # type: ignore[no-any-return]

    async def count(self, model: Any, company_id: str | None = None) -> int:
        async with self.gw.state.session_factory() as session:
            query = select(func.count()).select_from(model)
            if company_id is not None:
                query = query.where(model.company_id == company_id)
            return int((await session.execute(query)).scalar_one())

    async def check_rows(self) -> None:
        """Whatever got in is well-formed: the services' rules held under fuzzing."""
        async with self.gw.state.session_factory() as session:
            for row in (await session.execute(select(Customer))).scalars():
                assert validate.email(row.email) == row.email
                assert isinstance(row.metadata_, dict)
            for payment in (await session.execute(select(Payment))).scalars():
                assert payment.currency in CURRENCIES
                assert payment.amount > 0
                assert payment.status in PAYMENT_STATUSES
            for link in (await session.execute(select(PaymentLink))).scalars():
                assert link.currency in CURRENCIES
                assert link.amount > 0
                assert link.status in PAYMENT_LINK_STATUSES
            for sub in (await session.execute(select(Subscription))).scalars():
                assert sub.currency in CURRENCIES
                assert sub.amount > 0
                assert sub.status in SUBSCRIPTION_STATUSES
                assert sub.interval in INTERVALS


@pytest.fixture
async def fuzz(start_gateway: Callable[..., Any]) -> Fuzz:
    gw: Gateway = await start_gateway(**PRODUCTION)
    company = await create_company(gw)
    other = await create_company(gw, name="Other")
    headers = await create_api_key(gw, company)
    first = await create_customer(gw, company)
    second = await create_customer(gw, company, email="second@example.com", client_id=None)
    foreign = await create_customer(gw, other)
    return Fuzz(gw, company.id, headers, {"@uid0@": first.uid, "@uuid0@": str(first.id),
                                          "@uid1@": second.uid, "@other@": foreign.uid})


async def test_valid_documents_with_random_arguments(fuzz: Fuzz) -> None:
    cases = examples(st.tuples(documents(Mode.POSITIVE),
                               st.sampled_from(["valid"] * 8 + ["none", "wrong"])), POSITIVE_CASES)
    for document, auth in cases:
        await fuzz.send(document, auth=auth)

    assert fuzz.cases == POSITIVE_CASES
    await fuzz.check_rows()
    # Nothing reached the other company.
    assert await fuzz.count(Customer) == await fuzz.count(Customer, fuzz.company_id) + 1


async def test_documents_with_one_schema_violation(fuzz: Fuzz) -> None:
    for document in examples(documents(Mode.NEGATIVE), NEGATIVE_CASES):
        body = await fuzz.send(document)
        assert body.get("data") is None
        assert {e["extensions"]["code"] for e in body["errors"]} <= {
            "GRAPHQL_VALIDATION_FAILED", "BAD_REQUEST"}

    assert fuzz.cases == NEGATIVE_CASES
    assert await fuzz.count(Customer) == 3


AMOUNTS = st.integers(1, 10**9).map(lambda cents: f"{cents // 100}.{cents % 100:02d}")
EMAILS = st.sampled_from(["buyer@example.com", "second@example.com", "x@example.org"])
CURRENCY = st.sampled_from([c for c in CURRENCIES if CURRENCIES[c] >= 2])
TEXT = st.text(st.characters(codec="utf-8", exclude_categories=["Cc", "Cs"]), max_size=40)
METADATA = st.dictionaries(st.text("abcxyz_", min_size=1, max_size=10), st.one_of(
    TEXT, st.integers(-(2**31), 2**31), st.booleans()), max_size=4)
JUNK = st.one_of(st.none(), st.text(max_size=30), st.integers(), st.floats(), st.booleans(),
                 st.sampled_from(USEFUL_STRINGS), st.lists(st.integers(), max_size=2))
# Each write mutation with values its service accepts; a case then spoils one field
# (or none) with anything at all, so both the accepting and the refusing paths run.
WRITES: dict[str, tuple[str, st.SearchStrategy[dict[str, Any]]]] = {
    "createCustomer": (
        "mutation($input: CreateCustomerInput!) { createCustomer(input: $input) { id } }",
        st.fixed_dictionaries({"email": EMAILS}, optional={
            "name": TEXT, "clientId": st.text("abc123_-", max_size=20), "metadata": METADATA})),
    "updateCustomer": (
        "mutation($c: ID!, $input: UpdateCustomerInput!) { updateCustomer(customerId: $c, "
        "input: $input) { id } }",
        st.fixed_dictionaries({"name": TEXT}, optional={
            "clientId": st.text("abc123_-", max_size=20), "metadata": METADATA})),
    "recordPayment": (
        "mutation($input: RecordPaymentInput!) { recordPayment(input: $input) { id amount } }",
        st.fixed_dictionaries(
            {"amount": AMOUNTS, "currency": CURRENCY, "status": st.sampled_from(PAYMENT_STATUSES)},
            optional={"email": EMAILS, "clientId": st.text("abc123_", max_size=20),
                      "description": TEXT})),
    "createPaymentLink": (
        "mutation($input: CreatePaymentLinkInput!) { createPaymentLink(input: $input) { id } }",
        st.fixed_dictionaries({"amount": AMOUNTS, "currency": CURRENCY}, optional={
            "email": EMAILS, "description": TEXT,
            "expiresAt": st.sampled_from(["2030-01-01T00:00:00.000Z", "2031-06-01T12:00:00Z"])})),
    "createSubscription": (
        "mutation($input: CreateSubscriptionInput!) { createSubscription(input: $input) { id } }",
        st.fixed_dictionaries(
            {"planName": st.text("ProBasic ", min_size=1, max_size=30), "amount": AMOUNTS,
             "currency": CURRENCY, "interval": st.sampled_from(INTERVALS)},
            optional={"email": EMAILS, "metadata": METADATA,
                      "status": st.sampled_from(SUBSCRIPTION_STATUSES)})),
}
FIELD_NAMES = ["email", "name", "clientId", "metadata", "amount", "currency", "status",
               "description", "expiresAt", "planName", "interval", "unknownField"]


@st.composite
def write_cases(draw: st.DrawFn) -> tuple[str, dict[str, Any], str]:
    name = draw(st.sampled_from(sorted(WRITES)))
    values = draw(WRITES[name][1])
    if draw(st.booleans()):
        values[draw(st.sampled_from(FIELD_NAMES))] = draw(JUNK)
    return name, values, draw(st.sampled_from(CUSTOMER_SLOTS))


async def test_random_variables_for_the_write_mutations(fuzz: Fuzz) -> None:
    cases = examples(write_cases(), VARIABLE_CASES)
    created: Counter[str] = Counter()
    for name, values, customer in cases:
        variables = {"input": values, "c": fuzz.ids[customer]}
        body = await fuzz.send(WRITES[name][0], variables)
        if body.get("data"):
            created[name] += 1

    assert fuzz.cases == VARIABLE_CASES
    assert sum(created.values()) > VARIABLE_CASES // 4  # the writes were reached, not just refused
    assert await fuzz.count(Customer, fuzz.company_id) == 2 + created["createCustomer"]
    assert await fuzz.count(Payment, fuzz.company_id) == created["recordPayment"]
    assert await fuzz.count(PaymentLink, fuzz.company_id) == created["createPaymentLink"]
    assert await fuzz.count(Subscription, fuzz.company_id) == created["createSubscription"]
    await fuzz.check_rows()
    async with fuzz.gw.state.session_factory() as session:
        foreign = (await session.execute(select(Customer).where(
            Customer.uid == fuzz.ids["@other@"]))).scalar_one()
    assert foreign.name == "Ada Lovelace"  # updateCustomer never reached another company
