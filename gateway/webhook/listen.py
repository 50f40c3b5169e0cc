"""`gateway webhooks listen`: a development receiver that prints each webhook and,
given the endpoint's secret, whether its signature is valid. Loopback only."""

from __future__ import annotations

import asyncio
import hmac
from collections.abc import Callable

from gateway.webhook.secrets import secret_bytes, signature

MAX_BODY = 1024 * 1024


def signature_valid(secret: str, headers: dict[str, str], body: bytes) -> bool:
    try:
        expected = signature(secret_bytes(secret), headers["webhook-id"],
                             int(headers["webhook-timestamp"]), body)
    except (KeyError, ValueError):
        return False
    return any(hmac.compare_digest(expected, presented)
               for presented in headers.get("webhook-signature", "").split(" "))


async def listen(port: int, secret: str | None, out: Callable[[str], None]) -> None:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                request_line, *lines = head.decode("latin-1").split("\r\n")
                headers = {name.strip().lower(): value.strip() for name, _, value in
                           (line.partition(":") for line in lines if ":" in line)}
                length = min(int(headers.get("content-length", "0") or 0), MAX_BODY)
                body = await reader.readexactly(length)
                check = ("" if secret is None else
                         "  signature valid" if signature_valid(secret, headers, body)
                         else "  SIGNATURE INVALID")
                out(f"{request_line}  webhook-id {headers.get('webhook-id', '-')}{check}\n"
                    f"  {body.decode('utf-8', 'replace')}")
                writer.write(b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n")
                await writer.drain()
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError,
                ValueError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", port)
    out(f"Listening on http://127.0.0.1:{port}/ (Ctrl-C stops).")
    async with server:
        await server.serve_forever()
