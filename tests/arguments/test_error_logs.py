"""An unexpected database error is logged without the statement's values: customer
emails, names and client ids never reach an error log line, whichever database and
whichever path (SQLAlchemy's engine or the plain driver pool) failed."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import asyncpg
import pytest
from sqlalchemy import text

from gateway.db import loggable
from tests.portal.conftest import Tenant, make_tenant
from tests.support import Gateway, error_codes

LEAK = "leak.me@example.com"
CREATE = """mutation($email: String!, $name: String) {
  createCustomer(input: {email: $email, name: $name, clientId: "client_secret_77"}) { id } }"""


@pytest.fixture
async def refusing_inserts(gw: Gateway) -> AsyncIterator[Tenant]:
    """The database refuses one customer's insert, as an unexpected failure would: a
    CHECK constraint on PostgreSQL (its error quotes the failing row), a trigger on
    SQLite."""
    tenant = await make_tenant(gw)
    if gw.backend == "postgres":
        install = [f"ALTER TABLE customers ADD CONSTRAINT test_refuse CHECK (email <> '{LEAK}')"]
        remove = ["ALTER TABLE customers DROP CONSTRAINT test_refuse"]
    else:
        install = [f"CREATE TRIGGER test_refuse BEFORE INSERT ON customers "
                   f"WHEN NEW.email = '{LEAK}' BEGIN SELECT RAISE(ABORT, 'refused'); END"]
        remove = ["DROP TRIGGER test_refuse"]
    async with gw.state.engine.begin() as conn:
        for statement in install:
            await conn.execute(text(statement))
    try:
        yield tenant
    finally:
        async with gw.state.engine.begin() as conn:
            for statement in remove:
                await conn.execute(text(statement))


def logged_text(caplog: pytest.LogCaptureFixture) -> str:
    formatter = logging.Formatter("%(levelname)s %(name)s %(message)s")
    return "\n".join(formatter.format(record) for record in caplog.records)


async def test_a_failed_statement_is_logged_without_its_values(
    refusing_inserts: Tenant, caplog: pytest.LogCaptureFixture
) -> None:
    tenant = refusing_inserts

    body = (await tenant.gw.gql(CREATE, {"email": LEAK, "name": "Grace Hopper"},
                                tenant.api_key)).json()

    assert error_codes(body) == ["INTERNAL"]
    logged = logged_text(caplog)
    assert "unhandled error" in logged  # the failure is logged, with its traceback...
    assert "Traceback" in logged
    assert "INSERT INTO customers" in logged  # ...and the statement that failed
    for value in (LEAK, "Grace Hopper", "client_secret_77"):
        assert value not in logged


@pytest.mark.parametrize("backend", [("postgres", "redis")], indirect=True)
async def test_driver_errors_that_quote_a_value_are_logged_without_it(gw: Gateway) -> None:
    # asyncpg's own text quotes the argument ("invalid input for query argument $1:
    # '...'"), and so does PostgreSQL's ('invalid input syntax for type uuid: "..."').
    dsn = gw.state.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    conn = await asyncpg.connect(dsn)
    failures: list[BaseException] = []
    try:
        for statement in ("SELECT $1::uuid", "SELECT CAST($1::text AS uuid)"):
            try:
                await conn.fetch(statement, LEAK)
            except asyncpg.PostgresError as exc:
                failures.append(exc)
    finally:
        await conn.close()

    assert len(failures) == 2
    assert all(LEAK in str(exc) for exc in failures)  # what the driver says
    formatter = logging.Formatter()
    for exc in failures:
        safe = loggable(exc)
        shown = formatter.formatException((type(safe), safe, safe.__traceback__))
        assert LEAK not in shown
        assert type(exc).__name__ in shown
        assert "SQLSTATE" in shown
