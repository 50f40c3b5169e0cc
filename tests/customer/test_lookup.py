"""The customer lookups outside the ORM session (createPortalLink's, the portal
query's) answer as the ORM does: on PostgreSQL they run the same SQLAlchemy
statements, compiled once for the driver pool."""

from __future__ import annotations

from dataclasses import asdict

import pytest
from sqlalchemy import bindparam, select
from sqlmodel import col

from gateway.audit.service import OPERATOR
from gateway.company.service import CompanyService
from gateway.customer.repository import CustomerLookup, CustomerRepository
from gateway.kit.prebuilt import driver_sql
from gateway.models import Customer
from tests.factories import create_company, create_customer
from tests.support import Gateway

FIELDS = ("id", "uid", "company_id", "email", "name", "client_id", "metadata_", "created_at",
          "updated_at")


async def test_a_customer_reads_as_the_orm_reads_it(gw: Gateway) -> None:
    company = await create_company(gw, portal_domain="billing.acme.example", verified=True)
    customer = await create_customer(gw, company, metadata={"tier": "gold", "seats": 3})
    lookup = CustomerLookup(gw.state.engine)
    async with gw.state.session_factory() as session:
        expected = await CustomerRepository(session).get_with_company(company.id, customer.id, None)
    assert expected is not None
    want, want_company = expected

    for found in (await lookup.get_with_company(company.id, customer.id, None),
                  await lookup.get_with_company(company.id, None, customer.uid)):
        assert found is not None
        record, origin = found
        assert asdict(record) == {name: getattr(want, name) for name in FIELDS}
        assert (origin.id, origin.portal_domain, origin.portal_domain_verified) == (
            want_company.id, "billing.acme.example", True)


async def test_the_portal_lookup_reads_the_company_branding(gw: Gateway) -> None:
    company = await create_company(gw, "Acme")
    async with gw.state.session_factory() as session:
        await CompanyService(session, gw.clock).update_branding(
            company.id, {"display_name": "Acme Billing"}, OPERATOR)
        await session.commit()
    customer = await create_customer(gw, company, name=None, client_id=None)

    found = await CustomerLookup(gw.state.engine).for_portal(company.id, customer.uid)

    assert found is not None
    record, portal_company = found
    assert (record.id, record.name, record.client_id, record.metadata_) == (
        customer.id, None, None, {"source": "api"})
    assert (portal_company.id, portal_company.name) == (company.id, "Acme")
    assert portal_company.branding is not None
    assert portal_company.branding["displayName"] == "Acme Billing"


async def test_another_companys_customer_is_not_found(gw: Gateway) -> None:
    company, other = await create_company(gw), await create_company(gw, "Globex")
    customer = await create_customer(gw, other)
    lookup = CustomerLookup(gw.state.engine)

    assert await lookup.get_with_company(company.id, customer.id, None) is None
    assert await lookup.get_with_company(company.id, None, customer.uid) is None
    assert await lookup.for_portal(company.id, customer.uid) is None


def test_a_statement_whose_parameters_differ_from_the_order_is_refused() -> None:
    statement = select(col(Customer.id)).where(col(Customer.uid) == bindparam("ref"),
                                               col(Customer.company_id) == bindparam("company_id"))

    with pytest.raises(ValueError, match="company_id"):
        driver_sql(statement, ("company_id", "ref"))
    assert "$2" in driver_sql(statement, ("ref", "company_id"))
