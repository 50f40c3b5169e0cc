"""Malformed cursors and arguments are BAD_REQUEST with a message a client can act
on, never INTERNAL, on every backend; and nothing about customers lands in an error
log line (contract section 12)."""

from __future__ import annotations

import base64
import logging
import uuid
from typing import Any

import orjson
import pytest
from sqlalchemy import func, select

from gateway.kit.cursor import INVALID_CURSOR
from gateway.models import Customer
from tests.portal.conftest import Tenant, make_tenant
from tests.support import Gateway, error_codes

ROW = str(uuid.uuid4())


def cursor_of(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


MALFORMED_CURSORS = {
    "infinity": cursor_of(f"inf|{ROW}".encode()),
    "minus infinity": cursor_of(f"-inf|{ROW}".encode()),
    "1e300": cursor_of(f"1e300|{ROW}".encode()),
    "-1e300": cursor_of(f"-1e300|{ROW}".encode()),
    "past year 9999": cursor_of(f"253402300800|{ROW}".encode()),
    "not a number": cursor_of(f"nan|{ROW}".encode()),
    "no separator": cursor_of(b"1700000000"),
    "three parts": cursor_of(f"1|2|{ROW}".encode()),
    "not a uuid": cursor_of(b"1700000000.000000|not-a-uuid"),
    "not utf-8": cursor_of(b"\xff\xfe|\xff"),
    "not base64": "!!not*base64!!",
}
CURSOR_FIELDS = {
    "customers": ("query($after: String) { customers(after: $after) { edges { cursor } } }",
                  ["customers"]),
    "auditEvents": ("query($after: String) { auditEvents(after: $after) { edges { cursor } } }",
                    ["auditEvents"]),
    "settingsChanges": ("query($after: String) { settingsChanges(after: $after) "
                        "{ edges { cursor } } }", ["settingsChanges"]),
    "portal.payments": ("query($after: String) { portal { payments(after: $after) "
                        "{ edges { cursor } } } }", ["portal", "payments"]),
}


@pytest.fixture
async def tenant(gw: Gateway) -> Tenant:
    return await make_tenant(gw)


def errors_logged(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [record.getMessage() for record in caplog.records if record.levelno >= logging.ERROR]


def everything_logged(caplog: pytest.LogCaptureFixture) -> str:
    return "\n".join(record.getMessage() + (record.exc_text or "") + repr(record.exc_info)
                     for record in caplog.records)


@pytest.mark.parametrize("field", list(CURSOR_FIELDS))
async def test_a_malformed_cursor_is_a_bad_request(
    tenant: Tenant, field: str, caplog: pytest.LogCaptureFixture
) -> None:
    document, path = CURSOR_FIELDS[field]
    headers = tenant.link if field.startswith("portal") else tenant.api_key
    for kind, cursor in MALFORMED_CURSORS.items():
        body = (await tenant.gw.gql(document, {"after": cursor}, headers)).json()

        assert error_codes(body) == ["BAD_REQUEST"], (kind, body)
        assert body["errors"][0]["message"] == INVALID_CURSOR, kind
        assert body["errors"][0]["path"] == path, kind
    assert errors_logged(caplog) == []


async def test_a_cursor_from_a_page_still_works(tenant: Tenant) -> None:
    for n in range(3):
        await tenant.gw.gql_data(
            'mutation($e: String!) { createCustomer(input: {email: $e}) { id } }',
            {"e": f"c{n}@example.com"}, tenant.api_key)
    query = ("query($after: String) { customers(first: 2, after: $after) "
             "{ edges { node { email } } pageInfo { endCursor } } }")
    first = (await tenant.gw.gql_data(query, {}, tenant.api_key))["customers"]

    second = (await tenant.gw.gql_data(query, {"after": first["pageInfo"]["endCursor"]},
                                       tenant.api_key))["customers"]

    seen = [e["node"]["email"] for e in first["edges"] + second["edges"]]
    assert sorted(seen) == sorted(["c0@example.com", "c1@example.com", "c2@example.com",
                                   "buyer@example.com"])


NUL_CASES: dict[str, tuple[str, dict[str, Any], str]] = {
    # name: (document, variables, who sends it)
    "customers(clientId)": (
        "query($v: String) { customers(clientId: $v) { edges { cursor } } }",
        {"v": "client\x00_1042"}, "merchant"),
    "customers(email)": (
        "query($v: String) { customers(email: $v) { edges { cursor } } }",
        {"v": "buyer@example.com\x00"}, "merchant"),
    "customers(clientId) literal": (
        '{ customers(clientId: "a\\u0000b") { edges { cursor } } }', {}, "merchant"),
    "customer(customerId)": (
        "query($v: ID!) { customer(customerId: $v) { uid } }", {"v": "cus_\x00"}, "merchant"),
    "auditEvents(customerId)": (
        "query($v: ID) { auditEvents(customerId: $v) { edges { cursor } } }",
        {"v": "cus_\x00"}, "merchant"),
    "createCustomer(email)": (
        "mutation($v: String!) { createCustomer(input: {email: $v}) { id } }",
        {"v": "new\x00@example.com"}, "merchant"),
    "createCustomer(clientId) literal": (
        'mutation { createCustomer(input: {email: "n@example.com", clientId: "c\\u0000"}) '
        "{ id } }", {}, "merchant"),
    "createCustomer(metadata key)": (
        "mutation($v: JSON) { createCustomer(input: {email: \"m@example.com\", metadata: $v}) "
        "{ id } }", {"v": {"plan\x00": "pro"}}, "merchant"),
    "createCustomer(metadata value)": (
        "mutation($v: JSON) { createCustomer(input: {email: \"m@example.com\", metadata: $v}) "
        "{ id } }", {"v": {"tags": ["a", "b\x00"]}}, "merchant"),
    "createPortalLink(customerId)": (
        "mutation($v: ID!) { createPortalLink(customerId: $v) { expiresAt } }",
        {"v": "cus_\x00"}, "merchant"),
    "recordPayment(description)": (
        "mutation($v: String) { recordPayment(input: {email: \"buyer@example.com\", "
        "amount: \"1.00\", currency: \"USD\", status: \"paid\", description: $v}) { id } }",
        {"v": "x\x00"}, "merchant"),
    "updatePortalDisplayName": (
        "mutation($v: String!) { updatePortalDisplayName(name: $v) { name } }",
        {"v": "Ada\x00"}, "portal"),
    "portal.payments(after)": (
        "query($v: String) { portal { payments(after: $v) { edges { cursor } } } }",
        {"v": "\x00"}, "portal"),
}


@pytest.mark.parametrize("case", list(NUL_CASES))
async def test_a_nul_character_is_a_bad_request_that_changes_nothing(
    tenant: Tenant, case: str, caplog: pytest.LogCaptureFixture
) -> None:
    document, variables, sender = NUL_CASES[case]
    headers = tenant.link if sender == "portal" else tenant.api_key

    response = await tenant.gw.gql(document, variables, headers)

    body = response.json()
    assert error_codes(body) == ["BAD_REQUEST"], body
    assert "NUL character (U+0000)" in body["errors"][0]["message"]
    assert errors_logged(caplog) == []
    portal = await tenant.gw.gql_data("{ portal { customer { name } } }", headers=tenant.link)
    assert portal["portal"]["customer"]["name"] == "Ada Lovelace"
    async with tenant.gw.state.session_factory() as session:
        assert (await session.execute(select(func.count()).select_from(Customer))).scalar() == 1


async def test_the_variable_holding_the_nul_is_named(tenant: Tenant) -> None:
    document, variables, _ = NUL_CASES["customers(clientId)"]

    body = (await tenant.gw.gql(document, variables, tenant.api_key)).json()

    assert body["errors"][0]["message"].startswith("Variable $v contains a NUL character")


async def test_a_nul_in_the_sign_in_email_is_a_bad_request(
    gw: Gateway, caplog: pytest.LogCaptureFixture
) -> None:
    response = await gw.client.post("/api/auth/login", json={
        "email": "owner\x00@example.com", "password": "correct horse battery staple"})

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "BAD_REQUEST"
    assert "NUL character" in response.json()["error"]["message"]
    assert errors_logged(caplog) == []


async def test_the_attack_repros_log_nothing_about_customers(
    tenant: Tenant, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    for document, path in CURSOR_FIELDS.values():
        headers = tenant.link if path[0] == "portal" else tenant.api_key
        await tenant.gw.gql(document, {"after": MALFORMED_CURSORS["1e300"]}, headers)
    for document, variables, sender in NUL_CASES.values():
        await tenant.gw.gql(document, variables,
                            tenant.link if sender == "portal" else tenant.api_key)

    logged = everything_logged(caplog)
    for customer_data in ("buyer@example.com", "client_1042", "Ada Lovelace", "Traceback"):
        assert customer_data not in logged
    assert errors_logged(caplog) == []


@pytest.mark.parametrize("customer_id", ["cus_%00", "%00", "b834dd77-69b8-41a9-a4b6-95bc9dd14c2d%00"])
async def test_a_nul_in_a_rest_route_s_customer_id_is_a_bad_request(
    tenant: Tenant, customer_id: str, caplog: pytest.LogCaptureFixture
) -> None:
    response = await tenant.gw.client.post(
        f"/api/partner/v1/makepay/customers/{customer_id}/portal", headers=tenant.api_key)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "BAD_REQUEST"
    assert errors_logged(caplog) == []


async def test_deeply_nested_variables_are_checked_without_failing(tenant: Tenant) -> None:
    document = ("mutation($v: JSON) { createCustomer(input: {email: \"d@example.com\", "
                "metadata: {deep: $v}}) { id } }")
    depth = 1_000  # the JSON parser's limit is 1,024
    body = (b'{"query": ' + orjson.dumps(document) + b', "variables": {"v": '
            + b"[" * depth + b'"x\\u0000"' + b"]" * depth + b"}}")

    response = await tenant.gw.client.post(
        "/graphql", content=body, headers={**tenant.api_key, "content-type": "application/json"})

    assert error_codes(response.json()) == ["BAD_REQUEST"]
    assert "NUL character" in response.json()["errors"][0]["message"]
