from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import Any, TypeVar
from weakref import WeakKeyDictionary

import asyncpg
from sqlalchemy import Engine, event
from sqlalchemy.exc import DBAPIError, DisconnectionError, StatementError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from gateway.config import Settings
from gateway.errors import Unavailable

log = logging.getLogger("gateway.db")
T = TypeVar("T")

# A pooled connection idle longer than this is pinged before use (see below).
PING_AFTER_IDLE_SECONDS = 10.0
# A read replica that refuses or does not answer a connection within this long is
# left for REPLICA_RETRY_SECONDS, its reads sent to the primary: a dead replica
# costs a read at most this long, once, then nothing until it is tried again.
REPLICA_CONNECT_SECONDS = 1.0
REPLICA_RETRY_SECONDS = 5.0


def create_engine(settings: Settings) -> AsyncEngine:
    # hide_parameters: a statement's error never carries its bound values (customer
    # emails, names, client ids) into an error message or a log line.
    if settings.is_sqlite:
        engine = create_async_engine(
            settings.async_database_url, connect_args={"timeout": 30}, hide_parameters=True
        )

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        return engine
    return _postgres_engine(settings.async_database_url, settings, connect_timeout=5)


def create_read_engine(settings: Settings) -> AsyncEngine | None:
    """The engine of DATABASE_READ_URL, if set. A replica that does not accept a
    connection within REPLICA_CONNECT_SECONDS counts as down (ReadReplica)."""
    if settings.async_database_read_url is None:
        return None
    return _postgres_engine(settings.async_database_read_url, settings,
                            connect_timeout=REPLICA_CONNECT_SECONDS)


def _postgres_engine(url: str, settings: Settings, connect_timeout: float) -> AsyncEngine:
    engine = create_async_engine(
        url,
        pool_size=settings.database_pool_size,
        max_overflow=settings.database_max_overflow,
        pool_recycle=1800,
        connect_args={"command_timeout": 10, "timeout": connect_timeout},
        hide_parameters=True,
    )
    _check_on_checkout(engine)
    return engine


def _check_on_checkout(engine: AsyncEngine) -> None:
    """Pessimistic disconnect handling without a round trip per request.

    pool_pre_ping cost three round trips on every checkout (asyncpg's ping is BEGIN,
    `;`, ROLLBACK): a third of the partner route's time. A connection the server
    closed (restart, terminated backend, idle timeout) is known to asyncpg locally, so
    it is replaced at no cost; one idle for a while, the case a silent network drop
    leaves, is still pinged. Raising DisconnectionError makes the pool retry with a
    fresh connection, as pre-ping did."""

    @event.listens_for(engine.sync_engine, "checkin")
    def _checked_in(_dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def _checked_out(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        if dbapi_connection.driver_connection.is_closed():
            raise DisconnectionError("connection closed by the server")
        idle_since = record.info.get("idle_since")
        if idle_since is not None and time.monotonic() - idle_since > PING_AFTER_IDLE_SECONDS:
            try:
                dbapi_connection.ping()
            except Exception as exc:
                raise DisconnectionError("connection failed its ping") from exc


_autocommit_engines: WeakKeyDictionary[AsyncEngine, AsyncEngine] = WeakKeyDictionary()


def autocommit_engine(engine: AsyncEngine) -> AsyncEngine:
    """The same pool, in autocommit: for work that only reads. No BEGIN or ROLLBACK
    round trips; under READ COMMITTED every statement takes its own snapshot anyway,
    so a reader sees nothing different."""
    derived = _autocommit_engines.get(engine)
    if derived is None:
        derived = _autocommit_engines[engine] = engine.execution_options(
            isolation_level="AUTOCOMMIT")
    return derived


def autocommit(engine: AsyncEngine) -> AsyncConnection:
    """A pooled autocommit connection for single read-only statements."""
    return autocommit_engine(engine).connect()


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


async def _keep_session(_connection: asyncpg.Connection) -> None:
    """asyncpg resets a connection on release with one more statement (unlock advisory
    locks, CLOSE ALL, UNLISTEN, RESET ALL). Nothing run on this pool changes session
    state (single SELECTs, no transactions), so there is nothing to reset."""


# Keyed by the engine's sync Engine, which compares by identity (AsyncEngine's __eq__
# is Python code, run on every lookup).
_driver_pools: WeakKeyDictionary[Engine, asyncio.Future[asyncpg.Pool]] = WeakKeyDictionary()


async def driver_pool(engine: AsyncEngine) -> asyncpg.Pool | None:
    """A plain asyncpg pool beside the engine's, for the hottest single-statement reads
    (None on SQLite). Measured per lookup: ~290 us of CPU through SQLAlchemy's async
    engine (checkout events, greenlet, cursor adaptation) against ~70 us for asyncpg's
    acquire, fetchrow and release. Created on first use, same server and timeouts,
    closed with the engine. asyncpg replaces connections the server closed on acquire."""
    sync = engine.sync_engine
    future = _driver_pools.get(sync)
    if future is not None and future.done() and not future.cancelled() and future.exception() is None:
        return future.result()  # the common case: no shield (a wrapper future) per call
    if sync.dialect.name != "postgresql":
        return None
    if future is None:
        future = _driver_pools[sync] = asyncio.get_running_loop().create_future()
        try:
            url = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
            pool = await asyncpg.create_pool(
                url, min_size=1, max_size=engine.pool.size(),  # type: ignore[attr-defined]
                command_timeout=10, timeout=5, reset=_keep_session,
            )
        except BaseException as exc:
            del _driver_pools[sync]
            future.set_exception(exc)
            future.exception()  # retrieved: the next caller tries again
            raise
        future.set_result(pool)

        @event.listens_for(sync, "engine_disposed")
        def _close(_engine: Any) -> None:
            _driver_pools.pop(sync, None)
            pool.terminate()

    return await asyncio.shield(future)


# Told of each statement sent on a driver pool, before it is sent (tests count the
# statements a request costs; empty in production, where it costs one truth test).
driver_statement_listeners: list[Callable[[AsyncEngine, str], None]] = []

# What "the database is unreachable" looks like from asyncpg (SQLAlchemy wraps these
# as DBAPIError on its paths); errors in the statement itself stay errors.
DRIVER_UNREACHABLE = (OSError, TimeoutError, asyncpg.InterfaceError,
                      asyncpg.InternalClientError, asyncpg.PostgresConnectionError,
                      asyncpg.CannotConnectNowError, asyncpg.AdminShutdownError)


# A replica read that failed for want of the replica (not for its statement): it is
# retried on the primary. DBAPIError covers the engine's connection errors and the
# replica's own refusals (a query cancelled by a conflict with recovery).
REPLICA_FAILED = (*DRIVER_UNREACHABLE, DBAPIError, DisconnectionError, Unavailable)


class _Lease:
    """The connection the statements of a `one_connection` block share."""

    __slots__ = ("conn", "pool", "task")

    def __init__(self) -> None:
        self.pool: asyncpg.Pool | None = None
        self.conn: asyncpg.Connection | None = None
        self.task = asyncio.current_task()  # tasks the block starts do not share it


_lease: ContextVar[_Lease | None] = ContextVar("driver_lease", default=None)


@asynccontextmanager
async def one_connection() -> AsyncIterator[None]:
    """Driver-pool statements run one after another in this block share a connection,
    taken at the first and given back at the end: one acquire and release instead
    of one per statement (the portal query's customer lookup, then its lists). For
    sequential statements only: the block's own task uses it, others do not."""
    lease = _Lease()
    token = _lease.set(lease)
    try:
        yield
    finally:
        _lease.reset(token)
        if lease.pool is not None and lease.conn is not None:
            await lease.pool.release(lease.conn)


async def driver_fetch(engine: AsyncEngine, pool: asyncpg.Pool, sql: str,
                       *args: Any) -> list[asyncpg.Record]:
    """One read-only statement on the driver pool. A read is safe to repeat: a
    connection the server dropped while idle in the pool (restart, terminated
    backend) costs one retry; a second failure raises as the driver does."""
    for listener in driver_statement_listeners:
        listener(engine, sql)
    lease = _lease.get()
    if (lease is not None and lease.pool in (None, pool)
            and lease.task is asyncio.current_task()):
        return await _leased_fetch(lease, pool, sql, args)
    try:
        rows: list[asyncpg.Record] = await pool.fetch(sql, *args)
    except DRIVER_UNREACHABLE:
        rows = await pool.fetch(sql, *args)
    return rows


async def _leased_fetch(lease: _Lease, pool: asyncpg.Pool, sql: str,
                        args: tuple[Any, ...]) -> list[asyncpg.Record]:
    if lease.conn is None:
        lease.pool, lease.conn = pool, await pool.acquire()
    try:
        rows: list[asyncpg.Record] = await lease.conn.fetch(sql, *args)
    except DRIVER_UNREACHABLE:
        broken, lease.conn = lease.conn, None
        await pool.release(broken)  # the pool closes and replaces a broken connection
        lease.conn = await pool.acquire()
        rows = await lease.conn.fetch(sql, *args)
    return rows


class ReadReplica:
    """Where reads that may lag go: the replica (DATABASE_READ_URL), else the primary.

    For reads that need not see a write the caller just made: the portal's customer
    and lists, the merchant's list queries. Writes, and reads that must see the
    caller's own write (a mutation's result, an idempotent replay, a revocation
    check, the portal page's re-read after an action), use the primary engine.

    A replica that cannot be reached (refused, no answer within
    REPLICA_CONNECT_SECONDS, a connection it dropped) fails the read over to the
    primary at once, and is left alone for REPLICA_RETRY_SECONDS."""

    def __init__(self, primary: AsyncEngine, replica: AsyncEngine | None) -> None:
        self.primary = primary
        self.replica = replica
        self._down_until = 0.0  # time.monotonic() before which the replica is not tried

    async def read(self, work: Callable[[AsyncEngine], Awaitable[T]], *,
                   primary: bool = False) -> T:
        """`work` on the replica (on the primary with `primary`, or while the replica
        is down). A read is safe to repeat, so a failed one runs again on the primary."""
        replica = self.replica
        if primary or replica is None or time.monotonic() < self._down_until:
            return await work(self.primary)
        try:
            return await work(replica)
        except REPLICA_FAILED as exc:
            self._down_until = time.monotonic() + REPLICA_RETRY_SECONDS
            log.warning("read replica unavailable (%s); reading from the primary for %.0fs",
                        type(exc).__name__, REPLICA_RETRY_SECONDS)
            return await work(self.primary)


class StatementFailed(Exception):
    """A database error as it is logged: what failed, without the driver's text."""


def loggable(exc: BaseException) -> BaseException:
    """`exc` fit for an error log line. A database error's text may quote the values
    of the statement even with hide_parameters: asyncpg's "invalid input for query
    argument $1: 'ada@example.com'", PostgreSQL's 'invalid input syntax for type
    uuid: "..."' or a constraint's "Failing row contains (...)". Such an error (or
    one caused by it) is logged as its kind, SQLSTATE and statement, with its own
    traceback; anything else as it is."""
    found: BaseException | None = exc
    seen: set[int] = set()
    while found is not None and id(found) not in seen:
        seen.add(id(found))
        if isinstance(found, StatementError | asyncpg.PostgresError):
            break
        found = found.__cause__ or found.__context__
    else:
        return exc
    if isinstance(found, StatementError):
        orig = found.orig
        kind = type(orig).__name__ if orig is not None else type(found).__name__
        sqlstate = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
        statement = found.statement
    else:
        kind, sqlstate, statement = type(found).__name__, found.sqlstate, None
    text = kind + (f" (SQLSTATE {sqlstate})" if sqlstate else "")
    if statement:
        text += f" in: {' '.join(statement.split())}"
    safe = StatementFailed(text)
    safe.__traceback__ = exc.__traceback__
    safe.__suppress_context__ = True
    return safe
