"""The signed link is the portal's only credential (contract sections 2 and 6)."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import pytest

from gateway.kit.time import from_unix, iso_ms
from gateway.models import PortalRevocation
from gateway.portal_link.repository import PortalRevocationRepository
from gateway.signing.link import LINK_TTL_SECONDS, sign
from tests.cluster import backend_with_cluster  # noqa: F401  (also on a Redis Cluster)
from tests.conftest import SIGNING_SECRETS
from tests.factories import create_company, create_customer
from tests.portal.conftest import Tenant, link_header, make_tenant
from tests.support import Gateway, TestClock, error_codes

WHO = "query { portal { company { id name } customer { uid email } expiresAt } }"
REVOKE = "mutation($id: ID!) { revokePortalLinks(customerId: $id) { revokedBefore } }"


def query_with(tenant: Tenant, **changes: str) -> dict[str, str]:
    params = dict(pair.split("=", 1) for pair in tenant.link["x-makepay-portal"].split("&"))
    params.update(changes)
    return {"x-makepay-portal": "&".join(f"{k}={v}" for k, v in params.items())}


async def codes(tenant: Tenant, link: dict[str, str]) -> list[str]:
    return error_codes(await tenant.portal(WHO, link=link))


async def test_a_valid_link_opens_its_customers_portal(tenant: Tenant) -> None:
    body = await tenant.portal(WHO)

    portal = body["data"]["portal"]
    assert portal["company"] == {"id": tenant.company.id, "name": "Acme"}
    assert portal["customer"] == {"uid": tenant.customer.uid, "email": "buyer@example.com"}
    expires = int(tenant.link["x-makepay-portal"].split("expires=")[1].split("&")[0])
    assert portal["expiresAt"] == iso_ms(from_unix(expires))
    assert body["_headers"]["cache-control"] == "no-store"


async def test_the_url_from_the_partner_route_opens_the_portal(tenant: Tenant) -> None:
    response = await tenant.gw.client.post(
        f"/api/partner/v1/makepay/customers/{tenant.customer.id}/portal", headers=tenant.api_key)
    query = urlsplit(response.json()["customer"]["urls"]["customerPortal"]).query

    body = await tenant.portal(WHO, link={"x-makepay-portal": query})

    assert body["data"]["portal"]["customer"]["uid"] == tenant.customer.uid


async def test_the_query_string_may_keep_its_question_mark(tenant: Tenant) -> None:
    # The page may send location.search as it is.
    link = {"x-makepay-portal": "?" + tenant.link["x-makepay-portal"]}

    assert await codes(tenant, link) == []


async def test_without_a_link_there_is_no_portal(tenant: Tenant) -> None:
    response = await tenant.gw.gql(WHO)

    assert error_codes(response.json()) == ["PORTAL_LINK_INVALID"]
    assert response.json()["data"] is None


@pytest.mark.parametrize("change", [
    {"signature": "0" * 64},
    {"customer": "cus_01hzy4k6p4w9y2x7e2z7n8a2xm"},
    {"company": "acct_other"},
    {"expires": "9999999999"},
    {"signature": "not-hex"},
])
async def test_a_tampered_link_is_invalid(tenant: Tenant, change: dict[str, str]) -> None:
    assert await codes(tenant, query_with(tenant, **change)) == ["PORTAL_LINK_INVALID"]


async def test_an_expired_link_is_expired_not_invalid(tenant: Tenant) -> None:
    tenant.gw.clock.advance(LINK_TTL_SECONDS + 1)

    assert await codes(tenant, tenant.link) == ["PORTAL_LINK_EXPIRED"]


async def test_a_link_valid_too_far_in_the_future_is_invalid(tenant: Tenant) -> None:
    expires = int(tenant.gw.clock.timestamp()) + 2 * LINK_TTL_SECONDS
    signature = sign(SIGNING_SECRETS[0], tenant.company.id, tenant.customer.uid, expires)

    link = query_with(tenant, expires=str(expires), signature=signature)

    assert await codes(tenant, link) == ["PORTAL_LINK_INVALID"]


async def test_a_link_signed_with_an_older_secret_still_works(tenant: Tenant) -> None:
    expires = int(tenant.gw.clock.timestamp()) + LINK_TTL_SECONDS
    signature = sign(SIGNING_SECRETS[1], tenant.company.id, tenant.customer.uid, expires)

    body = await tenant.portal(WHO, link=query_with(tenant, expires=str(expires), signature=signature))

    assert body["data"]["portal"]["customer"]["uid"] == tenant.customer.uid


async def test_a_link_for_a_customer_of_another_company_is_invalid(gw: Gateway) -> None:
    # A correctly signed pair that does not exist: company B never had this customer.
    a, b = await create_company(gw, "A"), await create_company(gw, "B")
    customer = await create_customer(gw, a)

    response = await gw.gql(WHO, headers=link_header(gw, b.id, customer.uid))

    assert error_codes(response.json()) == ["PORTAL_LINK_INVALID"]


class TestRevocation:
    async def test_revoking_stops_existing_links_at_once(self, tenant: Tenant) -> None:
        assert await codes(tenant, tenant.link) == []  # verified and cached

        await tenant.gw.gql_data(REVOKE, {"id": tenant.customer.uid}, tenant.api_key)

        assert await codes(tenant, tenant.link) == ["PORTAL_LINK_INVALID"]

    async def test_a_link_issued_in_a_later_second_works(self, tenant: Tenant) -> None:
        await tenant.gw.gql_data(REVOKE, {"id": tenant.customer.uid}, tenant.api_key)
        tenant.gw.clock.advance(1)

        fresh = link_header(tenant.gw, tenant.company.id, tenant.customer.uid)

        assert await codes(tenant, fresh) == []

    async def test_revocation_reaches_every_gateway_process(
        self, start_gateway: Callable[..., Any], backend: tuple[str, str]
    ) -> None:
        if backend[1] != "redis":
            pytest.skip("the in-memory store serves one process only")
        clock = TestClock()
        one: Gateway = await start_gateway(clock)
        two: Gateway = await start_gateway(clock)
        tenant = await make_tenant(one)
        on_two = Tenant(two, tenant.company, tenant.customer, tenant.api_key, tenant.link)
        assert await codes(on_two, tenant.link) == []  # process two has it cached

        await one.gql_data(REVOKE, {"id": tenant.customer.uid}, tenant.api_key)

        assert await codes(on_two, tenant.link) == ["PORTAL_LINK_INVALID"]

    async def test_the_database_enforces_a_revocation_the_store_lost(self, tenant: Tenant) -> None:
        gw = tenant.gw
        await gw.gql_data(REVOKE, {"id": tenant.customer.uid}, tenant.api_key)
        revocation_key = gw.state.keys.revocation(tenant.company.id, tenant.customer.uid)
        await gw.state.store.delete(revocation_key)

        assert await codes(tenant, tenant.link) == ["PORTAL_LINK_INVALID"]
        assert await gw.state.store.get(revocation_key) is not None  # put back

    async def test_a_revocation_made_while_the_store_was_down_applies_within_a_minute(
        self, tenant: Tenant
    ) -> None:
        gw = tenant.gw
        assert await codes(tenant, tenant.link) == []  # verified and cached
        # What revokePortalLinks leaves when the store cannot be written: the row only.
        async with gw.state.session_factory() as session:
            await PortalRevocationRepository(session).add(PortalRevocation(
                id=uuid.uuid4(), company_id=tenant.company.id,
                customer_uid=tenant.customer.uid, issued_before=int(gw.clock.timestamp()),
                created_at=gw.clock.now()))
            await session.commit()

        gw.clock.advance(61)

        assert await codes(tenant, tenant.link) == ["PORTAL_LINK_INVALID"]


class TestRefusedBeforeExecution:
    """A query made only of the `portal` field is refused before execution when its
    link fails the signature check (graphql/schema.py, Context.refuse_bad_link)."""

    @pytest.mark.parametrize("alias", ["", "mine: "])
    async def test_the_answer_is_the_one_execution_gives(self, tenant: Tenant, alias: str) -> None:
        bad = query_with(tenant, signature="f" * 64)
        checked = await tenant.portal(f"query {{ {alias}portal {{ expiresAt }} }}", link=bad)
        # A directive and a variable keep this one on graphql-core's execution.
        executed = await tenant.portal(
            f"query($skip: Boolean = false) {{ {alias}portal @skip(if: $skip) {{ expiresAt }} }}",
            link=bad)
        checked.pop("_headers")
        executed.pop("_headers")

        assert checked == executed
        assert checked["data"] is None
        assert checked["errors"][0]["path"] == [alias.rstrip(": ") or "portal"]
        assert error_codes(checked) == ["PORTAL_LINK_INVALID"]


class TestAuthFailureBudget:
    async def test_invalid_links_use_up_the_ips_budget(self, start_gateway: Callable[..., Any]) -> None:
        gw: Gateway = await start_gateway(rate_limit_auth_failures_per_minute=3)
        tenant = await make_tenant(gw)
        bad = query_with(tenant, signature="f" * 64)
        for _ in range(3):
            assert await codes(tenant, bad) == ["PORTAL_LINK_INVALID"]

        blocked = await tenant.portal(WHO)

        assert error_codes(blocked) == ["RATE_LIMITED"]
        assert blocked["_status"] == 429
        assert int(blocked["_headers"]["retry-after"]) >= 1

    async def test_an_expired_link_does_not_count_as_a_failure(
        self, start_gateway: Callable[..., Any]
    ) -> None:
        gw: Gateway = await start_gateway(rate_limit_auth_failures_per_minute=2)
        tenant = await make_tenant(gw)
        old = tenant.link
        gw.clock.advance(LINK_TTL_SECONDS + 1)
        for _ in range(3):
            assert await codes(tenant, old) == ["PORTAL_LINK_EXPIRED"]

        fresh = link_header(gw, tenant.company.id, tenant.customer.uid)

        assert await codes(tenant, fresh) == []


async def test_no_log_line_carries_the_link_signature(
    tenant: Tenant, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    signature = tenant.link["x-makepay-portal"].split("signature=")[1]

    await tenant.portal(WHO)
    await tenant.portal(WHO, link=query_with(tenant, expires="1"))
    tenant.gw.clock.advance(LINK_TTL_SECONDS + 1)
    await tenant.portal(WHO)

    assert caplog.records
    assert all(signature not in record.getMessage() for record in caplog.records)
    assert signature not in caplog.text
