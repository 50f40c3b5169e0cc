"""The HTTP/1.1 protocol `gateway serve` runs: uvicorn's httptools protocol with a
limit on the size of a request's head (request line and headers).

uvicorn bounds the head only with h11 (`h11_max_incomplete_event_size`); its httptools
protocol buffers headers without limit (100 KB of headers were accepted). This
subclass applies the same setting to httptools, so one limit (MAX_HEADER_BYTES, given
to uvicorn as `h11_max_incomplete_event_size`) holds with either implementation. A head
over it is answered 431 and its connection closed, before any of the gateway runs.

Two checks, because httptools hands over a header only once it is complete:
- when a head ends, its size (request target and headers), measured only when the
  reads it came in could hold more than the limit: a large head sent in one write
  arrives in one read, and most requests are far smaller than any read;
- after each read that fell wholly inside an unfinished head, the bytes of such reads,
  so a head that never ends (one endless header) is cut off too. Counting only whole
  reads never blames a request for its predecessor's body.

Relies on uvicorn internals, checked with uvicorn 0.54.0 and httptools 0.9.0:
`uvicorn.protocols.http.httptools_impl.HttpToolsProtocol`, its constructor's
arguments, its parser callbacks `on_message_begin` and `on_headers_complete` (which
starts the ASGI task with `self.app`), the `url` and `headers` they fill,
`data_received`, `transport` and `config.h11_max_incomplete_event_size`. Nothing else in the gateway
imports uvicorn's protocol modules; tests/operations/test_http_server.py runs real
servers with this protocol and fails if an upgrade changes any of them."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import orjson
from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

log = logging.getLogger("gateway.access")

DEFAULT_MAX_HEAD_BYTES = 16 * 1024
# Per header, the bytes around its name and value: ": " and CRLF.
_HEADER_FRAMING = 4
_BODY = orjson.dumps({"ok": False, "error": {
    "code": "HEADERS_TOO_LARGE",
    "message": "The request line and headers are too large. Send fewer or shorter headers."}})
_HEADERS = [(b"content-type", b"application/json"), (b"content-length", str(len(_BODY)).encode()),
            (b"cache-control", b"no-store"), (b"connection", b"close")]
_RAW_RESPONSE = b"".join([
    b"HTTP/1.1 431 Request Header Fields Too Large\r\n",
    *(name + b": " + value + b"\r\n" for name, value in _HEADERS),
    b"\r\n", _BODY])


async def _refuse_head(scope: Any, receive: Any, send: Any) -> None:
    """Answers a request whose head was too large, in place of the gateway."""
    log.info("%s %s 431 (request head over the limit)", scope["method"], scope["path"],
             extra={"status": 431, "method": scope["method"], "path": scope["path"]})
    await send({"type": "http.response.start", "status": 431, "headers": _HEADERS})
    await send({"type": "http.response.body", "body": _BODY})


class GatewayHttpProtocol(HttpToolsProtocol):
    def __init__(self, config: Config, server_state: ServerState, app_state: dict[str, Any],
                 _loop: asyncio.AbstractEventLoop | None = None) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.max_head_bytes: int = config.h11_max_incomplete_event_size or DEFAULT_MAX_HEAD_BYTES
        self.head_open = False  # between a request's first byte and the end of its head
        self.heads_begun = 0
        self.head_span_bytes = 0  # earlier reads the open head was in, from its first byte's
        self.head_inner_bytes = 0  # earlier reads that fell wholly inside the open head
        self.read_bytes = 0  # the size of the read being parsed

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self.head_open = True
        self.heads_begun += 1
        self.head_span_bytes = self.head_inner_bytes = 0

    def head_bytes(self) -> int:
        return len(self.url) + sum(len(name) + len(value) + _HEADER_FRAMING
                                   for name, value in self.headers)

    def on_headers_complete(self) -> None:
        self.head_open = False
        # The head is no larger than the reads it came in, so a small request (almost
        # every one) is not measured.
        if (self.head_span_bytes + self.read_bytes <= self.max_head_bytes
                or self.head_bytes() <= self.max_head_bytes):
            super().on_headers_complete()
            return
        # The request goes through uvicorn's usual cycle (its body is read and dropped,
        # the connection closed after the answer), but the task runs the refusal.
        app, self.app = self.app, _refuse_head
        try:
            super().on_headers_complete()
        finally:
            self.app = app

    def data_received(self, data: bytes) -> None:
        open_before, begun_before = self.head_open, self.heads_begun
        self.read_bytes = len(data)
        super().data_received(data)
        if not self.head_open:
            return
        self.head_span_bytes += len(data)
        if not (open_before and self.heads_begun == begun_before):
            return
        self.head_inner_bytes += len(data)
        if self.head_inner_bytes > self.max_head_bytes and not self.transport.is_closing():
            self.head_open = False
            log.info("431 (request head over the limit, unfinished)", extra={"status": 431})
            self.transport.write(_RAW_RESPONSE)
            self.transport.close()
