from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from gateway.models import Company, Customer
from tests.factories import create_api_key, create_company, create_customer
from tests.support import Gateway

PORTAL_QUERY = """
query Portal($first: Int, $after: String) {
  portal {
    company { id name }
    expiresAt
    customer { id uid name email clientId createdAt }
    payments(first: $first, after: $after) {
      edges { cursor node { id amount currency status description createdAt } }
      pageInfo { hasNextPage endCursor }
    }
    paymentLinks { id url amount currency status description expiresAt }
    subscriptions { id status planName amount currency interval currentPeriodEnd }
  }
}
"""


def link_header(gw: Gateway, company_id: str, customer_uid: str) -> dict[str, str]:
    """What the portal page sends: its URL's query string, verbatim."""
    return {"x-makepay-portal": gw.state.signer.issue(company_id, customer_uid).query()}


@dataclass
class Tenant:
    """One merchant with one customer and the customer's portal link."""

    gw: Gateway
    company: Company
    customer: Customer
    api_key: dict[str, str]
    link: dict[str, str]

    async def portal(self, query: str = PORTAL_QUERY, variables: dict[str, Any] | None = None,
                     link: dict[str, str] | None = None) -> dict[str, Any]:
        response = await self.gw.gql(query, variables, link or self.link)
        body: dict[str, Any] = response.json()
        body["_status"] = response.status_code
        body["_headers"] = response.headers
        return body


async def make_tenant(gw: Gateway, name: str = "Acme", **customer: Any) -> Tenant:
    company = await create_company(gw, name)
    row = await create_customer(gw, company, **customer)
    return Tenant(gw, company, row, await create_api_key(gw, company),
                  link_header(gw, company.id, row.uid))


@pytest.fixture
async def tenant(gw: Gateway) -> Tenant:
    return await make_tenant(gw)
