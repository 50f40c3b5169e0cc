from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.principal import Caller
from gateway.state import State

T = TypeVar("T")


class Context(Caller):
    """Built once per request. Who is calling, and the database session, come from
    principal.Caller, each made on first use: a resolver awaits the principal it
    needs (`merchant()`, `link_issuer(company_id)`, `portal(budget)` ...), and the
    view adds `response_headers` to the response."""


Info = strawberry.Info[Context, None]


async def merchant_write(info: Info, write: Callable[[AsyncSession, State, str], Awaitable[T]]) -> T:
    """A merchant mutation made of one write: run for the API key's company on the
    request's session, and committed before the answer is built from what it returns."""
    principal = await info.context.merchant()
    session = info.context.session
    row = await write(session, info.context.state, principal.company_id)
    await session.commit()
    return row


def input_fields(value: object) -> dict[str, Any]:
    """A Strawberry input's fields by their Python names: the keyword arguments the
    services take."""
    return {field.name: getattr(value, field.name) for field in dataclasses.fields(value)}  # type: ignore[arg-type]
