from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg
import orjson
from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col

from gateway.db import DRIVER_UNREACHABLE, autocommit, driver_fetch, driver_pool
from gateway.errors import Unavailable
from gateway.kit.prebuilt import driver_sql
from gateway.kit.repository import CompanyScopedRepository
from gateway.models import Company, Customer


class CustomerRepository(CompanyScopedRepository[Customer]):
    """Every query is scoped by company: the company id is always the first argument."""

    model = Customer

    async def get_by_id(self, company_id: str, customer_id: uuid.UUID) -> Customer | None:
        result = await self.session.execute(
            select(Customer).where(col(Customer.company_id) == company_id, col(Customer.id) == customer_id)
        )
        return result.scalar_one_or_none()

    async def get_by_uid(self, company_id: str, uid: str) -> Customer | None:
        result = await self.session.execute(
            select(Customer).where(col(Customer.company_id) == company_id, col(Customer.uid) == uid)
        )
        return result.scalar_one_or_none()

    async def get_with_company(
        self, company_id: str, customer_id: uuid.UUID | None, uid: str | None
    ) -> tuple[Customer, Company] | None:
        condition = col(Customer.id) == customer_id if customer_id is not None else col(Customer.uid) == uid
        result = await self.session.execute(
            select(Customer, Company)
            .join(Company, col(Company.id) == Customer.company_id)
            .where(col(Customer.company_id) == company_id, condition)
        )
        row = result.first()
        return None if row is None else (row[0], row[1])


@dataclass(frozen=True, slots=True)
class CustomerRecord:
    """A customer as read for a response: the Customer model's attribute names,
    without the ORM's instrumentation and identity map."""

    id: uuid.UUID
    uid: str
    company_id: str
    email: str
    name: str | None
    client_id: str | None
    metadata_: dict[str, Any]
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class PortalCompanyRecord:
    """A company as the portal page shows it."""

    id: str
    name: str
    branding: dict[str, Any] | None
    portal_settings: dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class CompanyOrigin:
    id: str
    portal_domain: str | None
    portal_domain_verified: bool


_CUSTOMER_COLUMNS = (col(Customer.id), col(Customer.uid), col(Customer.company_id), col(Customer.email),
                     col(Customer.name), col(Customer.client_id), col(Customer.metadata_),
                     col(Customer.created_at), col(Customer.updated_at))
_SCOPED = (col(Customer.company_id) == bindparam("company_id"),)


def _with_company(*company_columns: Any, by: Any) -> Any:
    return select(*_CUSTOMER_COLUMNS, *company_columns).join(
        Company, col(Company.id) == Customer.company_id).where(*_SCOPED, by == bindparam("ref"))


# Built once: SQLAlchemy then finds the compiled form in its cache by a cheap key, and
# the driver pool runs the same statements' text, compiled once for its dialect.
_ORIGIN = (col(Company.portal_domain), col(Company.portal_domain_verified))
_BY_UID = _with_company(*_ORIGIN, by=col(Customer.uid))
_BY_ID = _with_company(*_ORIGIN, by=col(Customer.id))
_PORTAL = _with_company(col(Company.name), col(Company.branding), col(Company.portal_settings),
                        by=col(Customer.uid))
_ORDER = ("company_id", "ref")
_DRIVER_BY_UID = driver_sql(_BY_UID, _ORDER)
_DRIVER_BY_ID = driver_sql(_BY_ID, _ORDER)
_DRIVER_PORTAL = driver_sql(_PORTAL, _ORDER)


class CustomerLookup:
    """The createPortalLink lookup, scoped by company like every query: one indexed
    statement, mapped to plain records. On PostgreSQL it runs on the driver pool
    (db.driver_pool), elsewhere as a prebuilt select on an autocommit connection."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def _driver_first(self, sql: str, *args: Any) -> tuple[bool, asyncpg.Record | None]:
        """On PostgreSQL (True, the statement's first row or None) from the driver pool;
        (False, None) elsewhere. A database that cannot be reached, after
        db.driver_fetch's one retry on a dropped idle connection, is a 503."""
        try:
            pool = await driver_pool(self.engine)
            if pool is None:
                return False, None
            rows = await driver_fetch(self.engine, pool, sql, *args)
        except DRIVER_UNREACHABLE as exc:
            raise Unavailable() from exc
        return True, rows[0] if rows else None

    async def get_with_company(
        self, company_id: str, customer_id: uuid.UUID | None, uid: str | None
    ) -> tuple[CustomerRecord, CompanyOrigin] | None:
        ref = customer_id if customer_id is not None else uid
        on_driver, found = await self._driver_first(
            _DRIVER_BY_ID if customer_id is not None else _DRIVER_BY_UID, company_id, ref)
        if on_driver:
            if found is None:
                return None
            row = (uuid.UUID(bytes=found[0].bytes), *found[1:6], orjson.loads(found[6]),
                   *found[7:])
            return CustomerRecord(*row[:9]), CompanyOrigin(row[2], row[9], row[10])
        statement = _BY_ID if customer_id is not None else _BY_UID
        async with autocommit(self.engine) as conn:
            result = (await conn.execute(statement, {"company_id": company_id, "ref": ref})).first()
        if result is None:
            return None
        return CustomerRecord(*result[:9]), CompanyOrigin(result[2], result[9], result[10])

    async def for_portal(
        self, company_id: str, uid: str
    ) -> tuple[CustomerRecord, PortalCompanyRecord] | None:
        """The portal query's customer and company: one indexed statement, as above."""
        on_driver, found = await self._driver_first(_DRIVER_PORTAL, company_id, uid)
        if on_driver:
            if found is None:
                return None
            customer = CustomerRecord(uuid.UUID(bytes=found[0].bytes), found[1], found[2],
                                      found[3], found[4], found[5], orjson.loads(found[6]),
                                      found[7], found[8])
            branding, settings = (orjson.loads(found[i]) if found[i] is not None else None
                                  for i in (10, 11))
            return customer, PortalCompanyRecord(found[2], found[9], branding, settings)
        async with autocommit(self.engine) as conn:
            result = (await conn.execute(_PORTAL, {"company_id": company_id, "ref": uid})).first()
        if result is None:
            return None
        return CustomerRecord(*result[:9]), PortalCompanyRecord(result[2], result[9], result[10],
                                                                result[11])
