"""Statements built once per shape, then reused with new parameter values.

Building a select (columns, operators, coercions) and computing its cache key cost
more than executing it through SQLAlchemy's compiled cache; the portal page runs
the same few shapes on every view. Selecting columns rather than entities also
skips the ORM's identity map and instance construction: rows carry the column
names as attributes, which is all the GraphQL types read."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from typing import Any

from sqlalchemy import BindParameter, ColumnElement, Table, and_, bindparam, func, or_, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql.asyncpg import PGDialect_asyncpg

from gateway.kit.match import CustomerMatch


class Prebuilt:
    def __init__(self) -> None:
        self._statements: dict[Hashable, Any] = {}

    def get(self, shape: Hashable, build: Callable[[], Any]) -> Any:
        statement = self._statements.get(shape)
        if statement is None:
            statement = self._statements[shape] = build()
        return statement


# The dialect of the driver pool (db.driver_pool: asyncpg on PostgreSQL).
_DRIVER_DIALECT = PGDialect_asyncpg()  # type: ignore[no-untyped-call]


def driver_sql(statement: Any, order: tuple[str, ...]) -> str:
    """`statement`'s SQL text for the driver pool, whose positional parameters are the
    bind parameters named in `order`, in that order. Compiled once, at import, then
    run with plain values: no per-call processing. The driver returns JSON columns as
    text and UUIDs as its own type; the caller converts them."""
    compiled = statement.compile(dialect=_DRIVER_DIALECT)
    if tuple(compiled.positiontup or ()) != order:
        raise ValueError(f"the statement's parameters are {compiled.positiontup}, not {order}")
    return str(compiled)


def array_params(table: Table, names: Sequence[str]) -> list[BindParameter[Any]]:
    """One array parameter per column (`b_<name>`), for a whole batch of rows."""
    return [bindparam(f"b_{name}", type_=postgresql.ARRAY(table.c[name].type))
            for name in names]


def unnest_insert(table: Table, names: Sequence[str]) -> Any:
    """PostgreSQL's INSERT of a batch given as one array per column (array_params):
    one statement planned and run once, where an executemany runs once per row."""
    return postgresql.insert(table).from_select(
        list(names), select(*(func.unnest(array) for array in array_params(table, names))))


def newest_first_after_params(model: Any) -> ColumnElement[bool]:
    """kit.cursor.newest_first_after with bind parameters after_created and after_id."""
    created: BindParameter[Any] = bindparam("after_created")
    row_id: BindParameter[Any] = bindparam("after_id")
    return or_(model.created_at < created, and_(model.created_at == created, model.id < row_id))


def match_clause_params(model: Any, by_client: bool) -> ColumnElement[bool]:
    """CustomerMatch.clause with bind parameters email and client_id."""
    by_email: ColumnElement[bool] = model.email == bindparam("email")
    return or_(by_email, model.client_id == bindparam("client_id")) if by_client else by_email


def match_params(match: CustomerMatch) -> dict[str, str]:
    params = {"email": match.email}
    if match.client_id is not None:
        params["client_id"] = match.client_id
    return params
