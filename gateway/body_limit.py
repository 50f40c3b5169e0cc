"""Request body rules for every route: a size limit, a time limit and JSON-only bodies.

Applies to every method that carries a body. A declared Content-Length over the
limit is refused before any byte is read; a chunked body is read up to the limit
and refused past it, so no route can be made to buffer more. A body (or a declared
Content-Type) that is not application/json is refused with 415: HTML forms can
post text/plain or form encodings across origins without a CORS preflight, JSON
they cannot.

The whole body must arrive within `body_timeout` seconds of the request's head: a
client trickling a byte at a time would otherwise hold a connection and a task for
as long as it likes (no per-read idle timeout stops it: each byte resets one). Past
the deadline the request is answered 408 and its connection closed (by
middleware.RequestMiddleware). Reads after the last body message (waiting for a
disconnect) are not bounded."""

from __future__ import annotations

import asyncio
import types
from collections.abc import Generator
from typing import Any

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.errors import GatewayError, PayloadTooLarge, UnsupportedMediaType

_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_JSON = b"application/json"


def _media_type(value: bytes) -> bytes:
    return value.split(b";", 1)[0].strip().lower()


class BodyReadTimeout(Exception):
    """The body did not arrive by its deadline. Deliberately neither a TimeoutError nor
    an OSError: those mean an unreachable dependency (UNAVAILABLE) to the error map."""


class _Deadlines:
    """Body reads that wait, with their deadlines, enforced by one sweeper task that
    wakes every SWEEP_SECONDS while any read waits; a read past its deadline is
    cancelled and raises BodyReadTimeout, so the deadline holds to within
    SWEEP_SECONDS.

    A read that does not wait (its message is already there, as a body that came with
    the request's head is) costs nothing here: `_Bounded` registers a read, and a
    sweeper is started, only once the read has suspended. A timer per request (what
    `asyncio.timeout` arms) cost every request about 10 us, a sweeper task per request
    about as much, and a sweeper always asleep more (its timer keeps the loop's
    cancelled timers from being dropped, so each timer costs more to schedule)."""

    SWEEP_SECONDS = 0.1

    def __init__(self) -> None:
        self.waiting: dict[asyncio.Task[Any], float] = {}
        self.expired: set[asyncio.Task[Any]] = set()
        self.sweeper: asyncio.Task[None] | None = None

    def add(self, task: asyncio.Task[Any], deadline: float) -> None:
        self.waiting[task] = deadline
        if self.sweeper is None or self.sweeper.done():  # done: a loop that ended (tests)
            self.sweeper = asyncio.get_running_loop().create_task(self._sweep())

    def timed_out(self, task: asyncio.Task[Any]) -> bool:
        """Whether the sweeper cancelled `task`; if so, the cancellation is taken back."""
        if task not in self.expired:
            return False
        self.expired.discard(task)
        task.uncancel()
        return True

    async def _sweep(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self.waiting:
                await asyncio.sleep(self.SWEEP_SECONDS)
                now = loop.time()
                for task, deadline in list(self.waiting.items()):
                    if deadline <= now and task not in self.expired:
                        self.expired.add(task)
                        task.cancel()
        finally:
            if self.sweeper is asyncio.current_task():
                self.sweeper = None


class _Bounded:
    """`receive` with the body's messages due by `deadline` (the loop's clock).

    Each read runs its first step at once, as an eager task would: a message already
    there is returned without touching the deadlines. A read that suspends is
    registered while it waits, its suspension handed on to the task as `yield from`
    would (PEP 380), so that the sweeper's cancellation lands in `receive()`. No
    await lies between the read suspending and its registration, nor between its end
    and its removal: whenever the sweeper runs, a registered task is suspended in the
    read."""

    __slots__ = ("complete", "deadline", "deadlines", "receive")

    def __init__(self, deadlines: _Deadlines, receive: Receive, deadline: float) -> None:
        self.deadlines = deadlines
        self.receive = receive
        self.deadline = deadline
        self.complete = False

    @types.coroutine
    def __call__(self) -> Generator[Any, Any, Message]:
        read = self.receive().__await__()
        if self.complete:  # after the body (a wait for the disconnect): not bounded
            return (yield from read)
        try:
            step = read.send(None)
        except StopIteration as done:
            message: Message = done.value
        else:
            message = yield from self._wait(read, step)
        if message["type"] != "http.request" or not message.get("more_body", False):
            self.complete = True
        return message

    def _wait(self, read: Generator[Any, Any, Message], step: Any
              ) -> Generator[Any, Any, Message]:
        task = asyncio.current_task()
        if task is None:  # not in a task: nothing to cancel (never so under a server)
            return (yield from _resume(read, step))
        deadlines = self.deadlines
        deadlines.add(task, self.deadline)
        try:
            return (yield from _resume(read, step))
        except asyncio.CancelledError:
            if deadlines.timed_out(task):
                raise BodyReadTimeout from None
            raise
        finally:
            del deadlines.waiting[task]


def _resume(read: Generator[Any, Any, Message], step: Any) -> Generator[Any, Any, Message]:
    """The rest of `read`, whose first step yielded `step`: `yield from read` for a
    generator already started (values and exceptions passed in, its result out)."""
    while True:
        try:
            sent = yield step
        except GeneratorExit:
            read.close()
            raise
        except BaseException as exc:
            try:
                step = read.throw(exc)
            except StopIteration as done:
                return done.value  # type: ignore[no-any-return]
        else:
            try:
                step = read.send(sent)
            except StopIteration as done:
                return done.value  # type: ignore[no-any-return]


class BodyLimitMiddleware:
    """The rules above. A body that misses its deadline raises BodyReadTimeout out of
    here, for RequestMiddleware to answer (408): it knows whether an answer had begun,
    so no request pays for a send wrapper here to find out."""

    def __init__(self, app: ASGIApp, max_body_bytes: int, body_timeout: float) -> None:
        self.app = app
        self.limit = max_body_bytes
        self.timeout = body_timeout
        self.deadlines = _Deadlines()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in _BODY_METHODS:
            await self.app(scope, receive, send)
            return
        length: bytes | None = None
        content_type: bytes | None = None
        for name, value in scope["headers"]:
            if name == b"content-length":
                length = value
            elif name == b"content-type":
                content_type = value
        refused = self._refusal(length, content_type)
        if refused is not None:
            await refuse(scope, send, *refused)
            return
        bounded = _Bounded(self.deadlines, receive,
                           asyncio.get_running_loop().time() + self.timeout)
        if length is not None:
            await self.app(scope, bounded, send)
        else:
            await self._chunked(scope, bounded, send, content_type)

    def _refusal(self, length: bytes | None, content_type: bytes | None
                 ) -> tuple[GatewayError, int | None] | None:
        """What the head alone refuses: the error, with the status when not its own."""
        if length is not None:
            if not length.isdigit():
                return GatewayError("Invalid Content-Length."), 400
            if int(length) > self.limit:
                return PayloadTooLarge(), None
        if content_type is not None and _media_type(content_type) != _JSON:
            return UnsupportedMediaType(), None
        if length is not None and int(length) > 0 and content_type is None:
            return UnsupportedMediaType(), None
        return None

    async def _chunked(self, scope: Scope, receive: Receive, send: Send,
                       content_type: bytes | None) -> None:
        """No Content-Length (chunked, or no body at all): read at most `limit` bytes,
        then hand the body on as it came."""
        messages: list[Message] = []
        size = 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            size += len(message.get("body", b""))
            if size > self.limit:
                await refuse(scope, send, PayloadTooLarge())
                return
            if not message.get("more_body", False):
                break
        if size > 0 and content_type is None:
            await refuse(scope, send, UnsupportedMediaType())
            return
        await self.app(scope, _replay(messages, receive), send)


async def refuse(scope: Scope, send: Send, error: GatewayError, status: int | None = None) -> None:
    """Answers `error` in the route's error shape and closes the connection."""
    code = "BAD_REQUEST" if status == 400 else error.code
    body: dict[str, Any]
    if scope["path"] == "/graphql":
        body = {"errors": [{"message": error.message, "extensions": {"code": code}}]}
    else:
        body = {"ok": False, "error": {"code": code, "message": error.message}}
    await send({"type": "http.response.start", "status": status or error.status,
                "headers": [(b"content-type", b"application/json"),
                            (b"cache-control", b"no-store"), (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": orjson.dumps(body)})


def _replay(messages: list[Message], receive: Receive | None = None) -> Receive:
    queue = list(messages) or [{"type": "http.request", "body": b"", "more_body": False}]

    async def replay() -> Message:
        if queue:
            return queue.pop(0)
        if receive is not None:
            return await receive()
        return {"type": "http.disconnect"}

    return replay
