"""Fuzzing the partner route's inputs: random API key headers, customer ids and
extra headers. Only the right key and a customer of its company get a link; every
other answer is one of the contract's errors, and nothing is written."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import strategies as st
from sqlalchemy import func, select

from gateway.models import Customer, PortalRevocation
from tests.factories import create_api_key, create_company, create_customer
from tests.fuzz.test_graphql_fuzz import examples, leaks
from tests.support import Gateway

pytestmark = pytest.mark.parametrize("backend", [("postgres", "redis")], indirect=True)

CASES = 200
STATUSES = {200, 400, 401, 404, 405, 415, 429}
CODES = {400: "BAD_REQUEST", 401: "UNAUTHENTICATED", 404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED",
         415: "UNSUPPORTED_MEDIA_TYPE", 429: "RATE_LIMITED"}

OWN_CUSTOMERS = {("@key@", "@secret@"): ("@uid@", "@uuid@"),
                 ("@other-key@", "@other-secret@"): ("@foreign@",)}
header_values = st.one_of(
    st.text(st.characters(min_codepoint=32, max_codepoint=255, exclude_characters="\x7f"),
            max_size=120).map(lambda s: s.encode("latin-1")),
    st.binary(max_size=60).map(lambda b: b.replace(b"\r", b"").replace(b"\n", b"")),
)


@st.composite
def requests(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "key_id": draw(st.one_of(st.just("@key@"), st.just("@other-key@"), header_values,
                                 st.none())),
        "secret": draw(st.one_of(st.just("@secret@"), st.just("@other-secret@"), header_values,
                                 st.none())),
        "customer": draw(st.one_of(st.sampled_from(["@uid@", "@uuid@", "@foreign@"]),
                                   st.text(max_size=60))),
        "extra": draw(st.dictionaries(
            st.sampled_from(["accept", "x-forwarded-for", "x-request-id", "content-type",
                             "x-makepay-portal", "cookie", "origin"]),
            header_values, max_size=3)),
    }


async def test_random_partner_requests(start_gateway: Callable[..., Any]) -> None:
    gw: Gateway = await start_gateway(environment="production",
                                      rate_limit_auth_failures_per_minute=100_000)
    company, other = await create_company(gw), await create_company(gw, name="Other")
    key, other_key = await create_api_key(gw, company), await create_api_key(gw, other)
    customer = await create_customer(gw, company)
    foreign = await create_customer(gw, other)
    slots = {"@key@": key["x-makecrypto-key-id"], "@secret@": key["x-makecrypto-key-secret"],
             "@other-key@": other_key["x-makecrypto-key-id"],
             "@other-secret@": other_key["x-makecrypto-key-secret"],
             "@uid@": customer.uid, "@uuid@": str(customer.id), "@foreign@": foreign.uid}
    successes = 0

    for case in examples(requests(), CASES):
        headers: dict[str, Any] = dict(case["extra"])
        if case["key_id"] is not None:
            headers["x-makecrypto-key-id"] = slots.get(case["key_id"], case["key_id"])
        if case["secret"] is not None:
            headers["x-makecrypto-key-secret"] = slots.get(case["secret"], case["secret"])
        target = slots.get(case["customer"], case["customer"])
        response = await gw.client.post(
            f"/api/partner/v1/makepay/customers/{quote(target, safe='')}/portal", headers=headers)

        detail = f"{case}\n{response.status_code} {response.text}"
        assert response.status_code in STATUSES, detail
        assert leaks(response.text, target) == [], detail
        body = response.json()
        if response.status_code == 200:
            successes += 1
            # Only a key with its own secret, for a customer of the key's company.
            own = OWN_CUSTOMERS.get((case["key_id"], case["secret"]), ())
            assert case["customer"] in own, detail
            assert body["customer"]["uid"] == (
                foreign.uid if case["customer"] == "@foreign@" else customer.uid)
        else:
            assert body["ok"] is False, detail
            assert body["error"]["code"] == CODES[response.status_code], detail
            assert set(body["error"]) == {"code", "message"}
            assert slots["@secret@"] not in response.text

    assert successes > 0
    async with gw.state.session_factory() as session:
        assert (await session.execute(select(func.count()).select_from(Customer))).scalar_one() == 2
        assert (await session.execute(
            select(func.count()).select_from(PortalRevocation))).scalar_one() == 0
