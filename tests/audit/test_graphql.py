"""The merchant's audit trail of portal changes (issue: audit trail), over HTTP."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.factories import create_customer, create_subscription
from tests.portal.conftest import Tenant, link_header, make_tenant
from tests.support import Gateway, error_codes

AUDIT = """query($first: Int, $after: String, $customer: ID) {
  auditEvents(first: $first, after: $after, customerId: $customer) {
    edges { cursor node { id customerUid action subjectType subjectId stateBefore stateAfter
                          clientIp userAgent idempotencyKey createdAt } }
    pageInfo { hasNextPage endCursor }
  }
}"""
PAUSE = """mutation($id: ID!, $key: String) {
  pauseSubscription(subscriptionId: $id, idempotencyKey: $key) { status } }"""
CANCEL = "mutation($id: ID!) { cancelSubscription(subscriptionId: $id) { status } }"
RENAME = "mutation($name: String!) { updatePortalDisplayName(name: $name) { name } }"


@pytest.fixture
async def tenant(gw: Gateway) -> Tenant:
    return await make_tenant(gw)


async def audit(tenant: Tenant, **variables: Any) -> dict[str, Any]:
    response = await tenant.gw.gql(AUDIT, variables, tenant.api_key)
    body: dict[str, Any] = response.json()
    return body


def nodes(body: dict[str, Any]) -> list[dict[str, Any]]:
    return [edge["node"] for edge in body["data"]["auditEvents"]["edges"]]


async def test_portal_changes_appear_newest_first_with_every_field(tenant: Tenant) -> None:
    gw = tenant.gw
    row = await create_subscription(gw, tenant.company)
    headers = {**tenant.link, "user-agent": "Portal/1.0 (test)"}
    assert error_codes(await tenant.portal(RENAME, {"name": "Ada King"}, headers)) == []
    gw.clock.advance(1)
    assert error_codes(await tenant.portal(PAUSE, {"id": str(row.id), "key": "click-1"}, headers)) == []

    events = nodes(await audit(tenant))

    pause, rename = events
    assert {k: v for k, v in pause.items() if k not in ("id", "createdAt")} == {
        "customerUid": tenant.customer.uid, "action": "subscription.pause",
        "subjectType": "subscription", "subjectId": str(row.id),
        "stateBefore": "active", "stateAfter": "paused",
        "clientIp": "203.0.113.7", "userAgent": "Portal/1.0 (test)", "idempotencyKey": "click-1",
    }
    assert rename["action"] == "customer.rename"
    assert (rename["subjectType"], rename["subjectId"]) == ("customer", str(tenant.customer.id))
    assert (rename["stateBefore"], rename["stateAfter"]) == ("Ada Lovelace", "Ada King")
    assert rename["idempotencyKey"] is None
    assert pause["createdAt"] > rename["createdAt"]
    assert pause["createdAt"].endswith("Z")
    assert uuid.UUID(pause["id"]) != uuid.UUID(rename["id"])


async def test_a_conflict_writes_no_event(tenant: Tenant) -> None:
    row = await create_subscription(tenant.gw, tenant.company, status="cancelled")

    assert error_codes(await tenant.portal(CANCEL, {"id": str(row.id)})) == [
        "SUBSCRIPTION_STATE_CONFLICT"]

    assert nodes(await audit(tenant)) == []


async def test_pages_follow_the_cursor_without_gaps_or_repeats(tenant: Tenant) -> None:
    for n in range(5):
        assert error_codes(await tenant.portal(RENAME, {"name": f"Name {n}"})) == []
        tenant.gw.clock.advance(1)

    seen: list[str | None] = []
    after = None
    pages = 0
    while True:
        connection = (await audit(tenant, first=2, after=after))["data"]["auditEvents"]
        seen += [edge["node"]["stateAfter"] for edge in connection["edges"]]
        pages += 1
        if not connection["pageInfo"]["hasNextPage"]:
            break
        after = connection["pageInfo"]["endCursor"]
        assert after == connection["edges"][-1]["cursor"]

    assert seen == [f"Name {n}" for n in reversed(range(5))]
    assert pages == 3


async def test_filtering_by_customer_takes_a_uuid_or_a_uid(gw: Gateway) -> None:
    ada = await make_tenant(gw)
    grace = await create_customer(gw, ada.company, email="grace@example.com", client_id="c2")
    graces_link = link_header(gw, ada.company.id, grace.uid)
    assert error_codes(await ada.portal(RENAME, {"name": "Ada K"})) == []
    assert error_codes(await ada.portal(RENAME, {"name": "Grace H"}, graces_link)) == []

    by_uid = nodes(await audit(ada, customer=grace.uid))
    by_uuid = nodes(await audit(ada, customer=str(grace.id)))
    everyone = nodes(await audit(ada))

    assert [e["stateAfter"] for e in by_uid] == ["Grace H"]
    assert by_uuid == by_uid
    assert {e["customerUid"] for e in everyone} == {ada.customer.uid, grace.uid}


class TestTenantIsolation:
    async def test_another_companys_key_sees_none_of_the_events(self, gw: Gateway) -> None:
        victim = await make_tenant(gw, "Victim")
        attacker = await make_tenant(gw, "Attacker")
        assert error_codes(await victim.portal(RENAME, {"name": "Secret Name"})) == []

        body = await audit(attacker)

        assert nodes(body) == []
        assert body["data"]["auditEvents"]["pageInfo"] == {"hasNextPage": False, "endCursor": None}
        assert [e["stateAfter"] for e in nodes(await audit(victim))] == ["Secret Name"]

    @pytest.mark.parametrize("ref", ["uid", "uuid"])
    async def test_filtering_by_another_companys_customer_is_not_found(
        self, gw: Gateway, ref: str
    ) -> None:
        victim = await make_tenant(gw, "Victim")
        attacker = await make_tenant(gw, "Attacker")
        assert error_codes(await victim.portal(RENAME, {"name": "Secret Name"})) == []
        customer = victim.customer.uid if ref == "uid" else str(victim.customer.id)

        body = await audit(attacker, customer=customer)

        assert error_codes(body) == ["NOT_FOUND"]
        assert body["data"] is None
        assert "Secret" not in str(body)

    async def test_a_cursor_from_another_company_reveals_nothing(self, gw: Gateway) -> None:
        victim = await make_tenant(gw, "Victim")
        attacker = await make_tenant(gw, "Attacker")
        for name in ("One", "Two"):
            assert error_codes(await victim.portal(RENAME, {"name": name})) == []
            gw.clock.advance(1)
        cursor = (await audit(victim, first=1))["data"]["auditEvents"]["pageInfo"]["endCursor"]

        assert nodes(await audit(attacker, after=cursor)) == []


async def test_without_an_api_key_it_is_unauthenticated(tenant: Tenant) -> None:
    assert error_codes(await tenant.portal(RENAME, {"name": "Ada K"})) == []

    response = await tenant.gw.gql(AUDIT)
    with_link_only = await tenant.gw.gql(AUDIT, headers=tenant.link)

    for body in (response.json(), with_link_only.json()):
        assert error_codes(body) == ["UNAUTHENTICATED"]
        assert body["data"] is None


@pytest.mark.parametrize(("variables", "code"), [
    ({"first": 0}, "BAD_REQUEST"), ({"first": 101}, "BAD_REQUEST"),
    ({"after": "bm90IGEgY3Vyc29y"}, "BAD_REQUEST"), ({"customer": "not-an-id"}, "BAD_REQUEST"),
    ({"customer": "cus_01hzy4k6p4w9y2x7e2z7n8a2xm"}, "NOT_FOUND"),
])
async def test_bad_arguments_are_refused(tenant: Tenant, variables: dict[str, Any], code: str) -> None:
    assert error_codes(await audit(tenant, **variables)) == [code]
