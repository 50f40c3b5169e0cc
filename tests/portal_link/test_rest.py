"""POST /api/partner/v1/makepay/customers/{customerId}/portal, as the reference shows it."""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.conftest import SIGNING_SECRETS
from tests.factories import create_api_key, create_company, create_customer
from tests.support import Gateway

ISO_MS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


def route(customer_id: str) -> str:
    return f"/api/partner/v1/makepay/customers/{customer_id}/portal"


async def test_returns_exactly_the_reference_shape(gw: Gateway) -> None:
    company = await create_company(gw, company_id="acct_123")
    headers = await create_api_key(gw, company)
    customer = await create_customer(gw, company)

    response = await gw.client.post(route(customer.uid), headers={**headers, "accept": "application/json"})

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert list(body) == ["ok", "companyId", "customer", "expiresAt"]
    assert list(body["customer"]) == ["id", "uid", "email", "name", "clientId", "metadata",
                                      "createdAt", "updatedAt", "urls"]
    assert body["ok"] is True
    assert body["companyId"] == "acct_123"
    assert body["customer"]["id"] == str(customer.id)
    assert body["customer"]["uid"] == customer.uid
    assert body["customer"]["email"] == "buyer@example.com"
    assert body["customer"]["name"] == "Ada Lovelace"
    assert body["customer"]["clientId"] == "client_1042"
    assert body["customer"]["metadata"] == {"source": "api"}
    assert list(body["customer"]["urls"]) == ["customerPortal"]
    for stamp in (body["expiresAt"], body["customer"]["createdAt"], body["customer"]["updatedAt"]):
        assert ISO_MS.fullmatch(stamp), stamp


async def test_link_is_signed_for_24_hours_with_the_newest_secret(gw: Gateway) -> None:
    company = await create_company(gw, company_id="acct_123")
    headers = await create_api_key(gw, company)
    customer = await create_customer(gw, company)
    before = int(gw.clock.timestamp())

    body = (await gw.client.post(route(customer.uid), headers=headers)).json()

    url = urlsplit(body["customer"]["urls"]["customerPortal"])
    assert (url.scheme, url.netloc, url.path) == ("https", "makepay.io", "/billing")
    assert [p.split("=")[0] for p in url.query.split("&")] == ["company", "customer", "expires",
                                                               "signature"]
    params = {k: v[0] for k, v in parse_qs(url.query).items()}
    expires = int(params["expires"])
    assert before + 86_400 <= expires <= int(gw.clock.timestamp()) + 86_400
    message = f"v1\nacct_123\n{customer.uid}\n{expires}".encode()
    assert params["signature"] == hmac.new(SIGNING_SECRETS[0].encode(), message,
                                           hashlib.sha256).hexdigest()
    assert (params["company"], params["customer"]) == ("acct_123", customer.uid)
    assert body["expiresAt"] == datetime.fromtimestamp(expires, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


async def test_accepts_the_customer_uuid_as_well_as_the_uid(gw: Gateway) -> None:
    company = await create_company(gw)
    headers = await create_api_key(gw, company)
    customer = await create_customer(gw, company)

    by_uuid = (await gw.client.post(route(str(customer.id)), headers=headers)).json()
    by_upper_uuid = (await gw.client.post(route(str(customer.id).upper()), headers=headers)).json()

    assert by_uuid["customer"]["uid"] == customer.uid
    assert by_upper_uuid["customer"]["uid"] == customer.uid


async def test_uses_the_company_verified_portal_domain(gw: Gateway) -> None:
    company = await create_company(gw, portal_domain="billing.acme.test", verified=True)
    headers = await create_api_key(gw, company)
    customer = await create_customer(gw, company)

    body = (await gw.client.post(route(customer.uid), headers=headers)).json()

    assert body["customer"]["urls"]["customerPortal"].startswith("https://billing.acme.test/billing?")


async def test_ignores_an_unverified_portal_domain(gw: Gateway) -> None:
    company = await create_company(gw, portal_domain="billing.acme.test", verified=False)
    headers = await create_api_key(gw, company)
    customer = await create_customer(gw, company)

    body = (await gw.client.post(route(customer.uid), headers=headers)).json()

    assert body["customer"]["urls"]["customerPortal"].startswith("https://makepay.io/billing?")


@pytest.mark.parametrize("customer_id", ["nope", "cus_TOOSHORT", "123", "cus_" + "u" * 26,
                                         "b834dd77-69b8-41a9-a4b6-95bc9dd14c2"])
async def test_malformed_customer_id_is_bad_request(gw: Gateway, customer_id: str) -> None:
    company = await create_company(gw)
    headers = await create_api_key(gw, company)

    response = await gw.client.post(route(customer_id), headers=headers)

    assert response.status_code == 400
    assert response.json() == {"ok": False, "error": {"code": "BAD_REQUEST",
                                                      "message": response.json()["error"]["message"]}}


async def test_unknown_customer_is_not_found(gw: Gateway) -> None:
    company = await create_company(gw)
    headers = await create_api_key(gw, company)

    response = await gw.client.post(route("cus_01hzy4k6p4w9y2x7e2z7n8a2xm"), headers=headers)

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "NOT_FOUND"


class TestAuthentication:
    async def test_missing_headers(self, gw: Gateway) -> None:
        response = await gw.client.post(route("cus_01hzy4k6p4w9y2x7e2z7n8a2xm"))
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "UNAUTHENTICATED"

    async def test_wrong_secret(self, gw: Gateway) -> None:
        company = await create_company(gw)
        headers = await create_api_key(gw, company)
        customer = await create_customer(gw, company)
        headers["x-makecrypto-key-secret"] = headers["x-makecrypto-key-secret"][:-1] + "x"

        response = await gw.client.post(route(customer.uid), headers=headers)

        assert response.status_code == 401
        assert response.json()["error"]["code"] == "UNAUTHENTICATED"

    async def test_unknown_key_id(self, gw: Gateway) -> None:
        headers = {"x-makecrypto-key-id": "mk_makepay_" + "a" * 28,
                   "x-makecrypto-key-secret": "s" * 43}
        response = await gw.client.post(route("cus_01hzy4k6p4w9y2x7e2z7n8a2xm"), headers=headers)
        assert response.status_code == 401

    async def test_revoked_key_fails_like_an_unknown_key(self, gw: Gateway) -> None:
        company = await create_company(gw)
        headers = await create_api_key(gw, company)
        customer = await create_customer(gw, company)
        assert (await gw.client.post(route(customer.uid), headers=headers)).status_code == 200

        async with gw.state.session_factory() as session:
            await gw.state.api_keys.revoke(session, headers["x-makecrypto-key-id"])
            await session.commit()
        response = await gw.client.post(route(customer.uid), headers=headers)

        assert response.status_code == 401
        assert response.json() == {"ok": False, "error": {
            "code": "UNAUTHENTICATED", "message": "Missing, unknown or revoked API key."}}

    async def test_error_never_echoes_the_secret(self, gw: Gateway) -> None:
        secret = "super-secret-value-that-must-not-leak-000000"
        headers = {"x-makecrypto-key-id": "mk_makepay_" + "b" * 28, "x-makecrypto-key-secret": secret}
        response = await gw.client.post(route("cus_01hzy4k6p4w9y2x7e2z7n8a2xm"), headers=headers)
        assert secret not in response.text


class TestTenantIsolation:
    async def test_key_of_company_a_never_reaches_company_b(self, gw: Gateway) -> None:
        company_a = await create_company(gw, "A Corp")
        company_b = await create_company(gw, "B Corp")
        headers_a = await create_api_key(gw, company_a)
        victims = [await create_customer(gw, company_b, email=f"victim{i}@b-corp.example", name=f"Victim {i}",
                                         client_id=f"b_client_{i}") for i in range(3)]

        for victim in victims:
            for ref in (victim.uid, str(victim.id)):
                response = await gw.client.post(route(ref), headers=headers_a)
                assert response.status_code == 404, ref
                assert response.json()["error"]["code"] == "NOT_FOUND"
                for leak in (victim.email, victim.name, victim.client_id, company_b.id, "B Corp"):
                    assert leak not in response.text

    async def test_not_found_for_another_company_is_indistinguishable(self, gw: Gateway) -> None:
        company_a = await create_company(gw)
        company_b = await create_company(gw)
        headers_a = await create_api_key(gw, company_a)
        victim = await create_customer(gw, company_b)

        other = await gw.client.post(route(victim.uid), headers=headers_a)
        missing = await gw.client.post(route("cus_01hzy4k6p4w9y2x7e2z7n8a2xm"), headers=headers_a)

        assert (other.status_code, other.json()) == (missing.status_code, missing.json())
