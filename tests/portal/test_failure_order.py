"""An IP past its failure budget gets 429 for every kind of portal link, whatever the
order in which the gateway checks the link and the budget."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from gateway.signing.link import sign
from tests.conftest import SIGNING_SECRETS
from tests.portal.conftest import link_header, make_tenant
from tests.support import Gateway, error_codes

WHO = "query { portal { customer { uid } } }"


def expired(gw: Gateway, company_id: str, customer_uid: str) -> dict[str, str]:
    expires = int(gw.clock.timestamp()) - 10
    signature = sign(SIGNING_SECRETS[0], company_id, customer_uid, expires)
    return {"x-makepay-portal": f"company={company_id}&customer={customer_uid}"
                                f"&expires={expires}&signature={signature}"}


def forged(gw: Gateway, company_id: str, customer_uid: str) -> dict[str, str]:
    query = gw.state.signer.issue(company_id, customer_uid).query()
    return {"x-makepay-portal": query[:-64] + "0" * 64}


@pytest.mark.parametrize("kind", ["forged", "expired", "valid", "missing"])
async def test_a_blocked_ip_gets_429_for_any_link(start_gateway: Callable[..., Any], kind: str) -> None:
    gw: Gateway = await start_gateway(rate_limit_auth_failures_per_minute=2)
    tenant = await make_tenant(gw)
    company, uid = tenant.company.id, tenant.customer.uid
    for _ in range(2):
        assert error_codes(await tenant.portal(WHO, link=forged(gw, company, uid))) == [
            "PORTAL_LINK_INVALID"]
    link = {"forged": forged(gw, company, uid), "expired": expired(gw, company, uid),
            "valid": link_header(gw, company, uid), "missing": {"x-makepay-portal": ""}}[kind]

    body = await tenant.portal(WHO, link=link)

    assert error_codes(body) == ["RATE_LIMITED"]
    assert body["_status"] == 429


async def test_a_forged_link_from_an_unblocked_ip_is_invalid(gw: Gateway) -> None:
    tenant = await make_tenant(gw)
    body = await tenant.portal(WHO, link=forged(gw, tenant.company.id, tenant.customer.uid))
    assert error_codes(body) == ["PORTAL_LINK_INVALID"]
    assert body.get("data") is None

