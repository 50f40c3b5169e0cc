from __future__ import annotations

from sqlalchemy import select

from gateway.models import PortalRevocation
from tests.factories import create_api_key, create_company, create_customer
from tests.support import Gateway, error_codes

CREATE = """
mutation Create($customerId: ID!, $companyId: ID) {
  createPortalLink(customerId: $customerId, companyId: $companyId) {
    companyId
    expiresAt
    customer { id uid email name clientId metadata createdAt updatedAt urls { customerPortal } }
  }
}"""
REVOKE = """
mutation Revoke($customerId: ID!) {
  revokePortalLinks(customerId: $customerId) { customerId revokedBefore }
}"""


async def test_create_portal_link_matches_the_rest_route(gw: Gateway) -> None:
    company = await create_company(gw)
    headers = await create_api_key(gw, company)
    customer = await create_customer(gw, company)

    data = await gw.gql_data(CREATE, {"customerId": customer.uid}, headers)
    rest = (await gw.client.post(
        f"/api/partner/v1/makepay/customers/{customer.uid}/portal", headers=headers)).json()

    link = data["createPortalLink"]
    assert link["companyId"] == rest["companyId"] == company.id
    fields = ["id", "uid", "email", "name", "clientId", "metadata", "createdAt", "updatedAt"]
    assert {k: link["customer"][k] for k in fields} == {k: rest["customer"][k] for k in fields}
    assert link["customer"]["urls"]["customerPortal"].startswith("https://makepay.io/billing?company=")


async def test_company_id_of_another_company_is_refused_with_an_api_key(gw: Gateway) -> None:
    company = await create_company(gw)
    other = await create_company(gw)
    headers = await create_api_key(gw, company)
    customer = await create_customer(gw, company)

    response = await gw.gql(CREATE, {"customerId": customer.uid, "companyId": other.id}, headers)

    assert error_codes(response.json()) == ["FORBIDDEN"]
    assert response.json()["data"] is None


async def test_matching_company_id_is_accepted_with_an_api_key(gw: Gateway) -> None:
    company = await create_company(gw)
    headers = await create_api_key(gw, company)
    customer = await create_customer(gw, company)

    data = await gw.gql_data(CREATE, {"customerId": customer.uid, "companyId": company.id}, headers)

    assert data["createPortalLink"]["companyId"] == company.id


async def test_another_company_customer_is_not_found(gw: Gateway) -> None:
    attacker = await create_company(gw)
    victim_company = await create_company(gw)
    headers = await create_api_key(gw, attacker)
    victim = await create_customer(gw, victim_company, email="victim@victim.example")

    for ref in (victim.uid, str(victim.id)):
        response = await gw.gql(CREATE, {"customerId": ref}, headers)
        body = response.json()
        assert error_codes(body) == ["NOT_FOUND"]
        assert "victim@victim.example" not in response.text
        assert victim_company.id not in response.text


async def test_unauthenticated_without_a_key(gw: Gateway) -> None:
    response = await gw.gql(CREATE, {"customerId": "cus_01hzy4k6p4w9y2x7e2z7n8a2xm"})
    assert error_codes(response.json()) == ["UNAUTHENTICATED"]


async def test_revoke_records_the_revocation_durably_and_in_the_store(gw: Gateway) -> None:
    company = await create_company(gw)
    headers = await create_api_key(gw, company)
    customer = await create_customer(gw, company)
    before = int(gw.clock.timestamp())

    data = await gw.gql_data(REVOKE, {"customerId": str(customer.id)}, headers)

    assert data["revokePortalLinks"]["customerId"] == str(customer.id)
    async with gw.state.session_factory() as session:
        rows = (await session.execute(select(PortalRevocation))).scalars().all()
    assert [(r.company_id, r.customer_uid) for r in rows] == [(company.id, customer.uid)]
    assert before <= rows[0].issued_before <= int(gw.clock.timestamp())
    cached = await gw.state.store.get(gw.state.keys.revocation(company.id, customer.uid))
    assert cached is not None
    assert int(cached) == rows[0].issued_before


async def test_revoke_for_another_company_customer_is_not_found(gw: Gateway) -> None:
    attacker = await create_company(gw)
    victim_company = await create_company(gw)
    headers = await create_api_key(gw, attacker)
    victim = await create_customer(gw, victim_company)

    response = await gw.gql(REVOKE, {"customerId": victim.uid}, headers)

    assert error_codes(response.json()) == ["NOT_FOUND"]
    async with gw.state.session_factory() as session:
        assert (await session.execute(select(PortalRevocation))).first() is None
