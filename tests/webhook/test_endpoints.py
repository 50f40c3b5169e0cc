"""Webhook endpoints (contract section 10): create, list, update, delete, rotate."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from sqlalchemy import select

from gateway.models import WebhookEndpoint
from tests.factories import create_api_key, create_company
from tests.portal.conftest import Tenant
from tests.support import Gateway, error_codes
from tests.webhook.support import CREATE, create_endpoint

LIST = """query($first: Int, $after: String) { webhookEndpoints(first: $first, after: $after) {
  edges { cursor node { id url eventTypes description enabled } }
  pageInfo { hasNextPage endCursor } } }"""
UPDATE = """mutation($id: ID!, $input: UpdateWebhookEndpointInput!) {
  updateWebhookEndpoint(id: $id, input: $input) { id url eventTypes description enabled
  disabledReason } }"""
ROTATE = "mutation($id: ID!) { rotateWebhookSecret(id: $id) { secret endpoint { id } } }"
DELETE = "mutation($id: ID!) { deleteWebhookEndpoint(id: $id) }"


async def stored(gw: Gateway, endpoint_id: str) -> WebhookEndpoint | None:
    async with gw.state.session_factory() as session:
        rows = await session.execute(select(WebhookEndpoint))
        return next((row for row in rows.scalars() if str(row.id) == endpoint_id), None)


class TestCreate:
    async def test_the_secret_is_shown_once_and_stored_only_encrypted(self, tenant: Tenant) -> None:
        data = await tenant.gw.gql_data(CREATE, {"input": {
            "url": "https://hooks.example.com/makepay", "eventTypes": ["subscription.paused"],
            "description": "billing sync"}}, tenant.api_key)

        created = data["createWebhookEndpoint"]
        secret = created["secret"]
        assert secret.startswith("whsec_")
        assert len(base64.b64decode(secret.removeprefix("whsec_"))) == 32
        assert created["endpoint"]["eventTypes"] == ["subscription.paused"]
        assert created["endpoint"]["enabled"] is True
        row = await stored(tenant.gw, created["endpoint"]["id"])
        assert row is not None
        raw = secret.removeprefix("whsec_")
        assert all(raw not in str(value) for value in row.model_dump().values())
        listed = await tenant.gw.gql_data(LIST, {}, tenant.api_key)
        assert "secret" not in str(listed)

    async def test_no_event_types_means_every_type(self, tenant: Tenant) -> None:
        endpoint_id, _ = await create_endpoint(tenant, "https://hooks.example.com/a",
                                               eventTypes=[])
        data = await tenant.gw.gql_data(LIST, {}, tenant.api_key)
        assert data["webhookEndpoints"]["edges"][0]["node"]["id"] == endpoint_id
        assert data["webhookEndpoints"]["edges"][0]["node"]["eventTypes"] == []

    @pytest.mark.parametrize("fields", [
        {"url": "https://hooks.example.com/a", "eventTypes": ["subscription.exploded"]},
        {"url": "ftp://hooks.example.com/a"},
        {"url": "https://user:pass@hooks.example.com/a"},
        {"url": "https://hooks.example.com/" + "a" * 2000},
        {"url": "not a url"},
        {"url": "https:///nohost"},
    ])
    async def test_bad_input_is_bad_request_and_creates_nothing(
        self, tenant: Tenant, fields: dict[str, Any]
    ) -> None:
        response = await tenant.gw.gql(CREATE, {"input": fields}, tenant.api_key)

        assert error_codes(response.json()) == ["BAD_REQUEST"]
        listed = await tenant.gw.gql_data(LIST, {}, tenant.api_key)
        assert listed["webhookEndpoints"]["edges"] == []

    async def test_production_takes_https_only(self, start_gateway: Any) -> None:
        gw = await start_gateway(environment="production")
        company = await create_company(gw)
        key = await create_api_key(gw, company)

        refused = await gw.gql(CREATE, {"input": {"url": "http://hooks.example.com/a"}}, key)
        accepted = await gw.gql(CREATE, {"input": {"url": "https://hooks.example.com/a"}}, key)

        assert error_codes(refused.json()) == ["BAD_REQUEST"]
        assert "https://" in refused.json()["errors"][0]["message"]
        assert "errors" not in accepted.json()

    async def test_without_a_key_it_is_unauthenticated(self, gw: Gateway) -> None:
        response = await gw.gql(CREATE, {"input": {"url": "https://hooks.example.com/a"}})
        assert error_codes(response.json()) == ["UNAUTHENTICATED"]


class TestManage:
    async def test_update_changes_only_the_fields_sent(self, tenant: Tenant) -> None:
        endpoint_id, _ = await create_endpoint(tenant, "https://hooks.example.com/a",
                                               description="keep me")
        data = await tenant.gw.gql_data(UPDATE, {"id": endpoint_id, "input": {
            "url": "https://hooks.example.com/b", "eventTypes": ["customer.updated"],
            "enabled": False}}, tenant.api_key)

        assert data["updateWebhookEndpoint"] == {
            "id": endpoint_id, "url": "https://hooks.example.com/b",
            "eventTypes": ["customer.updated"], "description": "keep me", "enabled": False,
            "disabledReason": None}

    async def test_a_bad_update_changes_nothing(self, tenant: Tenant) -> None:
        endpoint_id, _ = await create_endpoint(tenant, "https://hooks.example.com/a")
        response = await tenant.gw.gql(UPDATE, {"id": endpoint_id, "input": {
            "url": "https://hooks.example.com/b", "eventTypes": ["nope"]}}, tenant.api_key)

        assert error_codes(response.json()) == ["BAD_REQUEST"]
        row = await stored(tenant.gw, endpoint_id)
        assert row is not None
        assert row.url == "https://hooks.example.com/a"

    async def test_delete_removes_it(self, tenant: Tenant) -> None:
        endpoint_id, _ = await create_endpoint(tenant, "https://hooks.example.com/a")

        data = await tenant.gw.gql_data(DELETE, {"id": endpoint_id}, tenant.api_key)
        again = await tenant.gw.gql(DELETE, {"id": endpoint_id}, tenant.api_key)

        assert data == {"deleteWebhookEndpoint": True}
        assert error_codes(again.json()) == ["NOT_FOUND"]
        assert await stored(tenant.gw, endpoint_id) is None

    async def test_rotation_returns_a_new_secret(self, tenant: Tenant) -> None:
        endpoint_id, secret = await create_endpoint(tenant, "https://hooks.example.com/a")
        data = await tenant.gw.gql_data(ROTATE, {"id": endpoint_id}, tenant.api_key)
        new = data["rotateWebhookSecret"]["secret"]
        assert new.startswith("whsec_")
        assert new != secret

    async def test_pages_newest_first(self, tenant: Tenant) -> None:
        ids = []
        for index in range(3):
            tenant.gw.clock.advance(1)
            ids.append((await create_endpoint(tenant, f"https://hooks.example.com/{index}"))[0])
        first = (await tenant.gw.gql_data(LIST, {"first": 2}, tenant.api_key))["webhookEndpoints"]
        rest = (await tenant.gw.gql_data(LIST, {"first": 2, "after": first["pageInfo"][
            "endCursor"]}, tenant.api_key))["webhookEndpoints"]
        assert [e["node"]["id"] for e in first["edges"] + rest["edges"]] == ids[::-1]
        assert first["pageInfo"]["hasNextPage"] is True
        assert rest["pageInfo"]["hasNextPage"] is False

    @pytest.mark.parametrize("malformed", ["nope", "123"])
    async def test_a_malformed_id_is_bad_request(self, tenant: Tenant, malformed: str) -> None:
        response = await tenant.gw.gql(ROTATE, {"id": malformed}, tenant.api_key)
        assert error_codes(response.json()) == ["BAD_REQUEST"]


class TestTenantIsolation:
    async def test_another_companys_key_cannot_reach_the_endpoint(self, tenant: Tenant) -> None:
        endpoint_id, _ = await create_endpoint(tenant, "https://hooks.example.com/a")
        other = await create_api_key(tenant.gw, await create_company(tenant.gw, "Other"))

        for document, variables in [
            (UPDATE, {"id": endpoint_id, "input": {"url": "https://evil.example.com/"}}),
            (ROTATE, {"id": endpoint_id}),
            (DELETE, {"id": endpoint_id}),
            ("mutation($id: ID!) { sendTestWebhook(endpointId: $id) { id } }", {"id": endpoint_id}),
            ("query($id: ID!) { webhookDeliveries(endpointId: $id) { edges { cursor } } }",
             {"id": endpoint_id}),
        ]:
            response = await tenant.gw.gql(document, variables, other)
            assert error_codes(response.json()) == ["NOT_FOUND"], document
        listed = await tenant.gw.gql_data(LIST, {}, other)
        assert listed["webhookEndpoints"]["edges"] == []
        row = await stored(tenant.gw, endpoint_id)
        assert row is not None
        assert row.url == "https://hooks.example.com/a"
