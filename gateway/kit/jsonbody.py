from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import ClientDisconnect, Request

from gateway.errors import BadRequest, PayloadTooLarge


async def read_json_body(request: Request, limit: int) -> Any:
    """The request's JSON body, refused with 413 past `limit` bytes (declared or sent)
    and with 400 when it does not parse."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge()
    # The ASGI messages themselves: Starlette's request.stream() is an async
    # generator, which costs more per request than the one message a body takes.
    body = bytearray()
    while True:
        message = await request.receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect()
        body += message.get("body", b"")
        if len(body) > limit:
            raise PayloadTooLarge()
        if not message.get("more_body", False):
            break
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        raise BadRequest("The body is not valid JSON.") from None
