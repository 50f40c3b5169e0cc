"""Test plumbing shared by every test module: the clock, the gateway under test."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette

from gateway.config import Settings
from gateway.db import driver_statement_listeners
from gateway.state import State


class TestClock:
    """Real time plus an offset the test can move, so time passes between writes
    (orderings are real) and expiry can be reached without sleeping."""

    __test__ = False

    def __init__(self) -> None:
        self.offset = 0.0
        self.slept: list[float] = []

    def timestamp(self) -> float:
        return time.time() + self.offset

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.timestamp(), UTC)

    def advance(self, seconds: float) -> None:
        self.offset += seconds

    async def sleep(self, seconds: float) -> None:
        """A deliberate delay passes at once, recorded: the clock moves on by it."""
        self.slept.append(seconds)
        self.advance(seconds)
        await asyncio.sleep(0)


@dataclass
class Gateway:
    app: Starlette
    client: httpx.AsyncClient
    settings: Settings
    clock: TestClock
    backend: str
    store_kind: str
    default_headers: dict[str, str] = field(default_factory=dict)

    @property
    def state(self) -> State:
        state: State = self.app.state.gateway
        return state

    async def gql(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        return await self.client.post(
            "/graphql",
            json={"query": query, "variables": variables or {}},
            headers={**self.default_headers, **(headers or {})},
        )

    async def gql_data(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        response = await self.gql(query, variables, headers)
        body = response.json()
        assert response.status_code == 200, body
        assert "errors" not in body, body["errors"]
        data: dict[str, Any] = body["data"]
        return data


def error_codes(body: dict[str, Any]) -> list[str]:
    return [e["extensions"]["code"] for e in body.get("errors", [])]


@contextmanager
def sql_statements(engine: AsyncEngine) -> Iterator[list[str]]:
    """Every SQL statement the engine sends while the block runs, in order, and those
    sent on its driver pool (db.driver_fetch)."""
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    def on_driver(sent_by: AsyncEngine, statement: str) -> None:
        if sent_by is engine:
            seen.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    driver_statement_listeners.append(on_driver)
    try:
        yield seen
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)
        driver_statement_listeners.remove(on_driver)


# Contract section 5.2's table, copied from the contract (not from the product), so
# the tests check the product against it: status before -> action -> status after,
# None for a conflict.
CONTRACT_STATE_TABLE: dict[str, dict[str, str | None]] = {
    # status before: {action: status after, None for a conflict}
    "active": {"pause": "paused", "reactivate": None, "cancel": "cancelled"},
    "trialing": {"pause": None, "reactivate": None, "cancel": "cancelled"},
    "past_due": {"pause": None, "reactivate": None, "cancel": "cancelled"},
    "unpaid": {"pause": None, "reactivate": None, "cancel": "cancelled"},
    "paused": {"pause": None, "reactivate": "active", "cancel": "cancelled"},
    "cancelled": {"pause": None, "reactivate": None, "cancel": None},
}

# Contract section 11 extends the table with the merchant's cancellationMode; a state
# is (status, cancelAtPeriodEnd), and None is a conflict.
SubscriptionState = tuple[str, bool]
_SET_TO_END_IMMEDIATELY: dict[SubscriptionState, dict[str, SubscriptionState | None]] = {
    # Set to end under AT_PERIOD_END, then the merchant went back to IMMEDIATELY.
    ("active", True): {"pause": None, "reactivate": ("active", False),
                       "cancel": ("cancelled", False)},
    ("trialing", True): {"pause": None, "reactivate": ("trialing", False),
                         "cancel": ("cancelled", False)},
}
CONTRACT_STATE_TABLES: dict[str, dict[SubscriptionState, dict[str, SubscriptionState | None]]] = {
    "IMMEDIATELY": {
        **{(status, False): {action: None if after is None else (after, False)
                             for action, after in row.items()}
           for status, row in CONTRACT_STATE_TABLE.items()},
        **_SET_TO_END_IMMEDIATELY,
    },
    "AT_PERIOD_END": {
        ("active", False): {"pause": ("paused", False), "reactivate": None,
                            "cancel": ("active", True)},
        ("trialing", False): {"pause": None, "reactivate": None, "cancel": ("trialing", True)},
        ("past_due", False): {"pause": None, "reactivate": None, "cancel": ("cancelled", False)},
        ("unpaid", False): {"pause": None, "reactivate": None, "cancel": ("cancelled", False)},
        ("paused", False): {"pause": None, "reactivate": ("active", False),
                            "cancel": ("cancelled", False)},
        ("cancelled", False): {"pause": None, "reactivate": None, "cancel": None},
        ("active", True): {"pause": None, "reactivate": ("active", False), "cancel": None},
        ("trialing", True): {"pause": None, "reactivate": ("trialing", False), "cancel": None},
    },
}


@asynccontextmanager
async def temporary_database(server_url: str, name: str) -> AsyncIterator[str]:
    """A new PostgreSQL database on the server of `server_url`, dropped afterwards;
    yields its URL."""
    admin = await asyncpg.connect(server_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    try:
        yield server_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        admin = await asyncpg.connect(server_url)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()
