"""The connections the Redis store runs its scripts on."""

from __future__ import annotations

import asyncio
from typing import Any

from redis.asyncio.connection import AbstractConnection, ConnectionPool
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

RETRY_BACKOFF_SECONDS = 0.02  # the client's ExponentialBackoff(base=0.01) after one failure


class ScriptConnections:
    """Connections of redis-py's pool, kept checked out in a plain list for the
    store's script calls (EVALSHA), one command at a time each.

    Why not the client's own `Script.__call__`: redis-py wraps every command in
    per-call work the store does not use (the pool's lock and a check that an idle
    connection has nothing unread, metrics and event hooks, operation-duration
    recording, a deprecation wrapper). For the one script call of a createPortalLink
    or portal request that was a quarter of the request's CPU in the profile
    (docs/performance.md). Taking connections out of the pool once and keeping them
    here costs none of it per call, and keeps one limit: a connection kept here is
    one the pool counts as in use, so the pool's `max_connections` bounds the
    client's commands and the scripts together. A connection beyond `keep` idle ones
    goes back to the pool.

    A command is sent and its reply read, with one retry after a connection error or
    a timeout (a connection the server closed while idle costs nothing, so no PING is
    sent first after an idle spell). A connection that fails or is interrupted is
    disconnected before it goes back to the pool; a reply that is an error
    (NOSCRIPT, a script error) leaves it in a clean state, so it stays here.

    Each round trip (connecting with its handshake, and each attempt's send and
    reply) has the deadline `timeout`, passed explicitly as a timeout around it
    rather than as the connection's socket timeout: redis-py's
    read_response(timeout=None) falls back to the socket timeout today and is marked
    to mean "no timeout" in its next major version, and a socket timeout on a send
    costs a task per command."""

    def __init__(self, pool: ConnectionPool, keep: int, timeout: float) -> None:
        self.pool = pool
        self.keep = keep
        self.timeout = timeout
        self.idle: list[AbstractConnection] = []

    async def execute(self, *args: Any) -> Any:
        conn = self.idle.pop() if self.idle else await self._connection()
        try:
            try:
                reply = await self._send(conn, args)
            except (RedisConnectionError, RedisTimeoutError, TimeoutError):
                # One retry after a short backoff, as the client's Retry setting.
                await conn.disconnect()
                await asyncio.sleep(RETRY_BACKOFF_SECONDS)
                reply = await self._send(conn, args)
        except ResponseError:
            await self._put_back(conn)
            raise
        except BaseException:
            await asyncio.shield(self._drop(conn))
            raise
        await self._put_back(conn)
        return reply

    async def _connection(self) -> AbstractConnection:
        async with asyncio.timeout(self.timeout):
            conn: AbstractConnection = await self.pool.get_connection()  # type: ignore[no-untyped-call]
        return conn

    async def _send(self, conn: AbstractConnection, args: tuple[Any, ...]) -> Any:
        async with asyncio.timeout(self.timeout):
            # No health check (a PING after an idle spell): a closed connection is
            # retried instead. send_command connects a disconnected connection first.
            await conn.send_command(*args, check_health=False)
            return await conn.read_response()

    async def _put_back(self, conn: AbstractConnection) -> None:
        if len(self.idle) < self.keep:
            self.idle.append(conn)
        else:
            await self.pool.release(conn)

    async def _drop(self, conn: AbstractConnection) -> None:
        await conn.disconnect(nowait=True)
        await self.pool.release(conn)

    async def close(self) -> None:
        idle, self.idle = self.idle, []
        for conn in idle:
            await self.pool.release(conn)

