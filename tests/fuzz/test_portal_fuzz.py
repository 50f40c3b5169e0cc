"""Fuzzing the portal operations: schema-generated documents sent with the signed
link (and with broken, expired or missing ones). Whatever comes in, the link's
customer is the only one whose data can change, every change is audited, and no
answer is a 5xx or leaks internals."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import strategies as st
from hypothesis_graphql import Mode, nodes
from sqlalchemy import select

from gateway.models import AuditEvent, Customer, Subscription
from tests.drawn import examples
from tests.factories import create_customer, create_subscription
from tests.fuzz.test_graphql_fuzz import PORTAL_FIELDS, PRODUCTION, SCALARS, Fuzz, documents
from tests.portal.conftest import link_header, make_tenant
from tests.support import Gateway

pytestmark = pytest.mark.parametrize("backend", [("postgres", "redis")], indirect=True)

CASES = 200
SUBSCRIPTION_SLOTS = ("@sub0@", "@sub1@", "@sibling@", "@foreign@")
PORTAL_SCALARS = {**SCALARS, "ID": st.one_of(st.sampled_from(SUBSCRIPTION_SLOTS),
                                             st.text(max_size=40)).map(nodes.String)}
LINKS = ["valid"] * 6 + ["tampered", "expired", "none", "garbage"]


async def test_random_portal_documents(start_gateway: Callable[..., Any]) -> None:
    gw: Gateway = await start_gateway(**PRODUCTION)
    tenant = await make_tenant(gw)
    sibling = await create_customer(gw, tenant.company, email="sibling@example.com",
                                    client_id="client_2", name="Sibling")
    other = await make_tenant(gw, "Other")
    own = [await create_subscription(gw, tenant.company),
           await create_subscription(gw, tenant.company, status="paused")]
    untouchable = [await create_subscription(gw, tenant.company, email=sibling.email),
                   await create_subscription(gw, other.company)]
    ids = {"@sub0@": str(own[0].id), "@sub1@": str(own[1].id),
           "@sibling@": str(untouchable[0].id), "@foreign@": str(untouchable[1].id)}
    genuine = tenant.link["x-makepay-portal"]
    gw.clock.advance(-2 * 86_400)
    expired = link_header(gw, tenant.company.id, tenant.customer.uid)
    gw.clock.advance(2 * 86_400)
    links: dict[str, dict[str, str]] = {
        "valid": tenant.link, "expired": expired, "none": {},
        "tampered": {"x-makepay-portal": genuine.replace("expires=", "expires=1")},
        "garbage": {"x-makepay-portal": "company=acct_1&customer=x&expires=1&signature=0"},
    }
    fuzz = Fuzz(gw, tenant.company.id, {}, ids)
    cases = examples(st.tuples(documents(Mode.POSITIVE, PORTAL_FIELDS, PORTAL_SCALARS),
                               st.sampled_from(LINKS)), CASES)

    for document, link in cases:
        fuzz.headers = links[link]
        await fuzz.send(document)

    assert fuzz.cases == CASES
    await fuzz.check_rows()
    async with gw.state.session_factory() as session:
        for row in untouchable:
            stored = await session.get(Subscription, row.id)
            assert stored is not None
            assert stored.status == "active"
        assert (await session.get(Customer, sibling.id)).name == "Sibling"  # type: ignore[union-attr]
        assert (await session.get(Customer, other.customer.id)).name == other.customer.name  # type: ignore[union-attr]
        events = (await session.execute(select(AuditEvent))).scalars().all()
    assert events  # the fuzzer did change things
    own_subjects = {ids["@sub0@"], ids["@sub1@"], str(tenant.customer.id)}
    for event in events:
        assert event.customer_uid == tenant.customer.uid
        assert event.subject_id in own_subjects
