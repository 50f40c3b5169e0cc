"""Every name a person types and others read goes through one validator
(validate.display_text): the portal display name, the merchant's customer name and the
branding's display name refuse the same characters, over GraphQL as clients send them."""

from __future__ import annotations

from typing import Any

import pytest

from tests.portal.conftest import Tenant, make_tenant
from tests.support import Gateway, error_codes

RENAME = "mutation($name: String!) { updatePortalDisplayName(name: $name) { name } }"
BRANDING = """mutation($name: String) {
  updatePortalBranding(input: {displayName: $name}) { displayName } }"""
UPDATE_CUSTOMER = """mutation($id: ID!, $name: String) {
  updateCustomer(customerId: $id, input: {name: $name}) { name } }"""
CREATE_CUSTOMER = """mutation($name: String, $email: String!) {
  createCustomer(input: {email: $email, name: $name}) { name } }"""
PORTAL_NAME = "{ portal { customer { name } company { branding { displayName } } } }"

# Each reads as something else than it is, or breaks the line it is shown on.
REFUSED = {
    "right-to-left override": "Ada\u202eecilA",
    "left-to-right isolate": "Ada\u2066King\u2069",
    "first strong isolate": "\u2068Ada",
    "zero width space": "Ada\u200bKing",
    "line separator": "Ada\u2028King",
    "paragraph separator": "Ada\u2029King",
    "byte order mark": "Ada\ufeffKing",
    "left-to-right mark": "Ada\u200eKing",
    "control character": "Ada\u0007",
    "newline": "Ada\nKing",
}


@pytest.fixture
async def tenant(gw: Gateway) -> Tenant:
    return await make_tenant(gw)


async def send(tenant: Tenant, entry: str, name: str) -> dict[str, Any]:
    gw = tenant.gw
    if entry == "portal display name":
        response = await gw.gql(RENAME, {"name": name}, tenant.link)
    elif entry == "branding display name":
        response = await gw.gql(BRANDING, {"name": name}, tenant.api_key)
    elif entry == "customer name (update)":
        response = await gw.gql(UPDATE_CUSTOMER, {"id": tenant.customer.uid, "name": name},
                                tenant.api_key)
    else:
        email = f"new.{name.encode().hex()}@example.com"
        response = await gw.gql(CREATE_CUSTOMER, {"name": name, "email": email}, tenant.api_key)
    body: dict[str, Any] = response.json()
    return body


ENTRIES = ["portal display name", "branding display name", "customer name (update)",
           "customer name (create)"]


@pytest.mark.parametrize("entry", ENTRIES)
async def test_each_entry_refuses_the_same_characters_and_changes_nothing(
    tenant: Tenant, entry: str
) -> None:
    for kind, name in REFUSED.items():
        body = await send(tenant, entry, name)

        assert error_codes(body) == ["BAD_REQUEST"], (kind, body)
    portal = await tenant.gw.gql_data(PORTAL_NAME, headers=tenant.link)
    assert portal["portal"]["customer"]["name"] == "Ada Lovelace"
    assert (portal["portal"]["company"]["branding"] or {}).get("displayName") is None
    customers = await tenant.gw.gql_data("{ customers { edges { node { email } } } }",
                                         headers=tenant.api_key)
    assert len(customers["customers"]["edges"]) == 1  # no customer was created


@pytest.mark.parametrize("entry", ENTRIES)
async def test_the_error_names_the_field_and_the_character(tenant: Tenant, entry: str) -> None:
    body = await send(tenant, entry, "Ada\u202eKing")

    error = body["errors"][0]
    assert "U+202E" in error["message"]
    assert error["extensions"]["field"] in {"name", "displayName"}
    assert error["extensions"]["field"] in error["message"]


@pytest.mark.parametrize("entry", ENTRIES)
async def test_names_in_any_script_are_kept_trimmed(tenant: Tenant, entry: str) -> None:
    for name in ["Zoë Ağaoğlu", "محمد", "李小龍", "O'Brien-Smith"]:
        body = await send(tenant, entry, f"  {name}  ")

        assert "errors" not in body, body
        assert list(next(iter(body["data"].values())).values()) == [name]
