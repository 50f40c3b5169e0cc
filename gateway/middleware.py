from __future__ import annotations

import logging
import os
import time

from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.body_limit import BodyReadTimeout, refuse
from gateway.errors import RequestTimeout
from gateway.metrics import RequestMetrics

log = logging.getLogger("gateway.access")

REQUEST_ID_SCOPE_KEY = "gateway.request_id"
# nginx's status for a client that closed its connection before the answer: logged and
# counted, never sent (nobody is left to receive it).
CLIENT_CLOSED_REQUEST = 499

SECURITY_HEADERS: list[tuple[bytes, bytes]] = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"strict-transport-security", b"max-age=63072000; includeSubDomains"),
]


def request_id(scope: Scope) -> str:
    """The request's id, as the middleware validated or generated it. Read it from here,
    never from the `x-request-id` header: a refused client value must not reach an error
    body or a log line (it is free text a client chose)."""
    value: str = scope.get(REQUEST_ID_SCOPE_KEY, "")
    return value


class RequestMiddleware:
    """Request id, security headers, the request metrics and one access-log line per
    request (one layer: each ASGI layer costs every request a call and a wrapper).

    The line holds the method, the path without its query string, the status and
    the duration; headers (API secrets, cookies) and query strings never appear.

    A client's `x-request-id` is kept only when it is 1-64 letters, digits and
    dashes; otherwise it is removed from the request and a random id replaces it.
    The id in use is in the scope under REQUEST_ID_SCOPE_KEY (`request_id(scope)`).

    A client that goes away before its request is read (an aborted upload) ends the
    request quietly: the access line, with status 499, is all that is logged. A body
    that misses its deadline (BodyReadTimeout, body_limit.py) is answered here with
    408 and the connection closed, unless an answer had begun."""

    def __init__(self, app: ASGIApp, metrics: RequestMetrics | None = None) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = ""
        refused = False
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                candidate = value.decode("latin-1")
                if 0 < len(candidate) <= 64 and candidate.isascii() \
                        and candidate.replace("-", "").isalnum():
                    request_id = candidate
                else:
                    refused = True
                break
        if refused:
            scope["headers"] = [h for h in scope["headers"] if h[0] != b"x-request-id"]
        if not request_id:
            request_id = os.urandom(16).hex()  # 32 hex digits, like uuid4().hex at half the cost
        scope[REQUEST_ID_SCOPE_KEY] = request_id
        status = 0  # until the answer starts

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers += [h for h in SECURITY_HEADERS if h[0] not in present]
                headers.append((b"x-request-id", request_id.encode()))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        except ClientDisconnect:
            status = CLIENT_CLOSED_REQUEST
        except BodyReadTimeout:
            if not status:
                await refuse(scope, send_wrapper, RequestTimeout())
        finally:
            status = status or 500  # no answer: the server's error answer follows
            if self.metrics is not None:
                self.metrics.record(scope, status, started)
            if log.isEnabledFor(logging.INFO):
                log.info(
                    "%s %s %s %.1fms",
                    scope["method"], scope["path"], status,
                    (time.perf_counter() - started) * 1000,
                    extra={"request_id": request_id, "status": status,
                           "method": scope["method"], "path": scope["path"]},
                )
