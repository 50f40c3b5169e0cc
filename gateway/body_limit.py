"""Request body rules for every route: a size limit and JSON-only bodies.

Applies to every method that carries a body. A declared Content-Length over the
limit is refused before any byte is read; a chunked body is read up to the limit
and refused past it, so no route can be made to buffer more. A body (or a declared
Content-Type) that is not application/json is refused with 415: HTML forms can
post text/plain or form encodings across origins without a CORS preflight, JSON
they cannot."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.errors import GatewayError, PayloadTooLarge, UnsupportedMediaType

_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_JSON = b"application/json"


def _media_type(value: bytes) -> bytes:
    return value.split(b";", 1)[0].strip().lower()


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.limit = max_body_bytes

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
        if length is not None:
            if not length.isdigit():
                await self._refuse(scope, send, GatewayError("Invalid Content-Length."), 400)
                return
            if int(length) > self.limit:
                await self._refuse(scope, send, PayloadTooLarge())
                return
        if content_type is not None and _media_type(content_type) != _JSON:
            await self._refuse(scope, send, UnsupportedMediaType())
            return
        if length is not None:
            if int(length) > 0 and content_type is None:
                await self._refuse(scope, send, UnsupportedMediaType())
                return
            await self.app(scope, receive, send)
            return
        # No Content-Length (chunked, or no body at all): read at most `limit` bytes,
        # then hand the body on as it came.
        messages: list[Message] = []
        size = 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            size += len(message.get("body", b""))
            if size > self.limit:
                await self._refuse(scope, send, PayloadTooLarge())
                return
            if not message.get("more_body", False):
                break
        if size > 0 and content_type is None:
            await self._refuse(scope, send, UnsupportedMediaType())
            return
        await self.app(scope, _replay(messages, receive), send)

    async def _refuse(self, scope: Scope, send: Send, error: GatewayError,
                      status: int | None = None) -> None:
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
