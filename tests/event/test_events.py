"""Events (contract section 10): one per change, in the change's transaction."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from gateway.customer.service import CustomerService
from gateway.event.service import EventService
from tests.factories import create_api_key, create_company, create_customer, create_subscription
from tests.portal.conftest import Tenant, link_header, make_tenant
from tests.support import Gateway, error_codes

EVENTS = """query($first: Int, $after: String, $type: String) {
  events(first: $first, after: $after, type: $type) {
    edges { cursor node { id type source createdAt payload } }
    pageInfo { hasNextPage endCursor }
  }
}"""
ACT = """mutation($id: ID!, $key: String) {{
  {action}Subscription(subscriptionId: $id, idempotencyKey: $key) {{ id status }}
}}"""


async def events(tenant: Tenant, **variables: Any) -> list[dict[str, Any]]:
    data = await tenant.gw.gql_data(EVENTS, variables, tenant.api_key)
    return [edge["node"] for edge in data["events"]["edges"]]


class TestPortalChanges:
    async def test_a_pause_is_one_event_with_the_subscription_and_its_previous_status(
        self, tenant: Tenant
    ) -> None:
        sub = await create_subscription(tenant.gw, tenant.company)

        body = await tenant.portal(ACT.format(action="pause"), {"id": str(sub.id)})
        assert body["data"]["pauseSubscription"]["status"] == "paused"

        [event] = await events(tenant)
        payload = event["payload"]
        assert event["type"] == payload["type"] == "subscription.paused"
        assert event["source"] == payload["source"] == "portal"
        assert payload["id"] == event["id"]
        assert payload["id"].startswith("evt_")
        assert len(payload["id"]) == 30
        assert payload["companyId"] == tenant.company.id
        assert payload["createdAt"] == event["createdAt"]
        assert payload["data"]["object"]["id"] == str(sub.id)
        assert payload["data"]["object"]["status"] == "paused"
        assert payload["data"]["object"]["customerId"] == str(tenant.customer.id)
        assert payload["data"]["previous"] == {"status": "active"}

    async def test_reactivate_and_cancel_are_named_for_what_they_did(self, tenant: Tenant) -> None:
        sub = await create_subscription(tenant.gw, tenant.company)
        for action in ("pause", "reactivate", "cancel"):
            await tenant.portal(ACT.format(action=action), {"id": str(sub.id)})

        found = [(e["type"], e["payload"]["data"]["previous"]) for e in await events(tenant)]
        assert found == [("subscription.cancelled", {"status": "active"}),
                         ("subscription.reactivated", {"status": "paused"}),
                         ("subscription.paused", {"status": "active"})]

    async def test_an_idempotent_replay_makes_no_second_event(self, tenant: Tenant) -> None:
        sub = await create_subscription(tenant.gw, tenant.company)
        for _ in range(3):
            body = await tenant.portal(ACT.format(action="pause"), {"id": str(sub.id), "key": "k1"})
            assert body["data"]["pauseSubscription"]["status"] == "paused"

        assert [e["type"] for e in await events(tenant)] == ["subscription.paused"]

    async def test_a_refused_action_makes_no_event(self, tenant: Tenant) -> None:
        sub = await create_subscription(tenant.gw, tenant.company, status="cancelled")

        body = await tenant.portal(ACT.format(action="pause"), {"id": str(sub.id)})

        assert error_codes(body) == ["SUBSCRIPTION_STATE_CONFLICT"]
        assert await events(tenant) == []

    async def test_a_display_name_change_is_customer_updated(self, tenant: Tenant) -> None:
        await tenant.portal("mutation { updatePortalDisplayName(name: \"Ada King\") { name } }")

        [event] = await events(tenant)
        assert event["type"] == "customer.updated"
        assert event["source"] == "portal"
        assert event["payload"]["data"]["object"]["name"] == "Ada King"
        assert event["payload"]["data"]["object"]["customerId"] == str(tenant.customer.id)
        assert event["payload"]["data"]["previous"] == {"name": "Ada Lovelace"}


class TestMerchantChanges:
    async def test_update_customer_names_the_changed_fields_previous_values(
        self, tenant: Tenant
    ) -> None:
        await tenant.gw.gql_data(
            'mutation($id: ID!) { updateCustomer(customerId: $id, input: {clientId: "c2", '
            'name: "Ada Lovelace"}) { id } }', {"id": tenant.customer.uid}, tenant.api_key)

        [event] = await events(tenant)
        assert (event["type"], event["source"]) == ("customer.updated", "merchant_api")
        assert event["payload"]["data"]["object"]["clientId"] == "c2"
        assert event["payload"]["data"]["previous"] == {"clientId": "client_1042"}

    async def test_an_update_that_changes_nothing_makes_no_event(self, tenant: Tenant) -> None:
        await tenant.gw.gql_data(
            'mutation($id: ID!) { updateCustomer(customerId: $id, input: {name: "Ada Lovelace"})'
            " { id } }", {"id": tenant.customer.uid}, tenant.api_key)

        assert await events(tenant) == []

    async def test_link_creation_and_revocation_are_events_without_the_link(
        self, tenant: Tenant
    ) -> None:
        created = await tenant.gw.gql_data(
            "mutation($id: ID!) { createPortalLink(customerId: $id) { expiresAt "
            "customer { urls { customerPortal } } } }", {"id": tenant.customer.uid},
            tenant.api_key)
        await tenant.gw.gql_data(
            "mutation($id: ID!) { revokePortalLinks(customerId: $id) { revokedBefore } }",
            {"id": tenant.customer.uid}, tenant.api_key)

        revoked, issued = await events(tenant)
        assert (issued["type"], issued["source"]) == ("portal_link.created", "merchant_api")
        assert issued["payload"]["data"]["object"] == {
            "customerId": str(tenant.customer.id), "customerUid": tenant.customer.uid,
            "expiresAt": created["createPortalLink"]["expiresAt"]}
        url = created["createPortalLink"]["customer"]["urls"]["customerPortal"]
        signature = url.rsplit("signature=", 1)[1]
        assert signature not in str(issued)
        assert revoked["type"] == "portal_links.revoked"
        assert revoked["payload"]["data"]["object"]["customerUid"] == tenant.customer.uid

    async def test_links_issued_at_once_each_have_their_event(self, tenant: Tenant) -> None:
        """Link events issued together are written together (event/repository.py): each
        request returns after its own row is committed, whatever batch it joined."""
        customers = [tenant.customer] + [
            await create_customer(tenant.gw, tenant.company, email=f"c{n}@example.com")
            for n in range(29)]

        answers = await asyncio.gather(*(tenant.gw.gql_data(
            "mutation($id: ID!) { createPortalLink(customerId: $id) { expiresAt } }",
            {"id": customer.uid}, tenant.api_key) for customer in customers))

        issued = {event["payload"]["data"]["object"]["customerUid"]:
                  event["payload"]["data"]["object"]["expiresAt"]
                  for event in await events(tenant, first=100)}
        assert issued == {customer.uid: answer["createPortalLink"]["expiresAt"]
                          for customer, answer in zip(customers, answers, strict=True)}

    async def test_the_partner_route_link_is_an_event_too(self, tenant: Tenant) -> None:
        response = await tenant.gw.client.post(
            f"/api/partner/v1/makepay/customers/{tenant.customer.uid}/portal",
            headers=tenant.api_key)
        assert response.status_code == 200

        assert [e["type"] for e in await events(tenant)] == ["portal_link.created"]


class TestTransaction:
    async def test_a_rolled_back_change_has_no_event_and_a_committed_one_has(
        self, tenant: Tenant
    ) -> None:
        gw = tenant.gw
        async with gw.state.session_factory() as session:
            await CustomerService(session, gw.clock).update(
                tenant.company.id, tenant.customer.uid, {"name": "Rolled Back"})
            await session.rollback()
        assert await events(tenant) == []

        async with gw.state.session_factory() as session:
            await CustomerService(session, gw.clock).update(
                tenant.company.id, tenant.customer.uid, {"name": "Kept"})
            await session.commit()
        [event] = await events(tenant)
        assert event["payload"]["data"]["object"]["name"] == "Kept"


class TestEventsQuery:
    async def test_pages_newest_first_and_filters_by_type(self, tenant: Tenant) -> None:
        for index in range(5):
            tenant.gw.clock.advance(1)
            await tenant.gw.gql_data(
                'mutation($id: ID!, $n: String) { updateCustomer(customerId: $id, '
                "input: {name: $n}) { id } }", {"id": tenant.customer.uid, "n": f"N{index}"},
                tenant.api_key)
        await tenant.gw.gql_data("mutation($id: ID!) { revokePortalLinks(customerId: $id) "
                                 "{ revokedBefore } }", {"id": tenant.customer.uid},
                                 tenant.api_key)

        first = await tenant.gw.gql_data(EVENTS, {"first": 4}, tenant.api_key)
        page = first["events"]
        assert page["pageInfo"]["hasNextPage"] is True
        rest = await events(tenant, first=4, after=page["pageInfo"]["endCursor"])
        names = [e["node"]["payload"]["data"]["object"].get("name") for e in page["edges"][1:]]
        assert names + [e["payload"]["data"]["object"]["name"] for e in rest] == [
            "N4", "N3", "N2", "N1", "N0"]
        only = await events(tenant, type="portal_links.revoked")
        assert [e["type"] for e in only] == ["portal_links.revoked"]

    @pytest.mark.parametrize("variables", [{"type": "subscription.exploded"}, {"after": "!!"},
                                           {"first": 101}])
    async def test_bad_arguments_are_bad_request(self, tenant: Tenant,
                                                 variables: dict[str, Any]) -> None:
        response = await tenant.gw.gql(EVENTS, variables, tenant.api_key)
        assert error_codes(response.json()) == ["BAD_REQUEST"]

    async def test_another_company_never_sees_the_events(self, tenant: Tenant) -> None:
        sub = await create_subscription(tenant.gw, tenant.company)
        await tenant.portal(ACT.format(action="pause"), {"id": str(sub.id)})
        other = await create_company(tenant.gw, "Other")

        data = await tenant.gw.gql_data(EVENTS, {}, await create_api_key(tenant.gw, other))

        assert data["events"]["edges"] == []

    async def test_without_a_key_it_is_unauthenticated(self, gw: Gateway) -> None:
        response = await gw.gql(EVENTS)
        assert error_codes(response.json()) == ["UNAUTHENTICATED"]


class TestRetention:
    async def test_events_older_than_the_retention_are_pruned(self, gw: Gateway) -> None:
        tenant = await make_tenant(gw)
        await tenant.portal("mutation { updatePortalDisplayName(name: \"Old\") { name } }")
        gw.clock.advance(29 * 86400)
        fresh = link_header(gw, tenant.company.id, tenant.customer.uid)
        await tenant.portal("mutation { updatePortalDisplayName(name: \"New\") { name } }",
                            link=fresh)
        gw.clock.advance(2 * 86400)

        async with gw.state.session_factory() as session:
            pruned = await EventService(session, gw.clock).prune(30)
            await session.commit()

        assert pruned == 1
        [kept] = await events(tenant)
        assert kept["payload"]["data"]["object"]["name"] == "New"
