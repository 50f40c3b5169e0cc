from __future__ import annotations

import re

from tests.factories import create_api_key, create_company, create_customer
from tests.support import Gateway

ISO_MS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


def route(customer_id: str) -> str:
    return f"/api/partner/v1/makepay/customers/{customer_id}/portal"


async def test_partner_route_returns_the_reference_shape(gw: Gateway) -> None:
    company = await create_company(gw)
    headers = await create_api_key(gw, company)
    customer = await create_customer(gw, company)

    response = await gw.client.post(route(customer.uid), headers={**headers, "accept": "application/json"})

    assert response.status_code == 200
    body = response.json()
    assert list(body) == ["ok", "companyId", "customer", "expiresAt"]
    assert list(body["customer"]) == ["id", "uid", "email", "name", "clientId", "metadata",
                                      "createdAt", "updatedAt", "urls"]
    assert body["ok"] is True
    assert body["companyId"] == company.id
    assert body["customer"]["id"] == str(customer.id)
    assert ISO_MS.fullmatch(body["expiresAt"])
    assert ISO_MS.fullmatch(body["customer"]["createdAt"])
