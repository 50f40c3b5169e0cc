"""A minimal HTTP/1.1 receiver for the delivery scenario: answers every POST with 204
on keep-alive connections and counts them; prints the count on SIGTERM.

Run: python -m bench.receiver PORT"""

from __future__ import annotations

import asyncio
import signal
import sys

import uvloop

_ANSWER = b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n"


class _Receiver(asyncio.Protocol):
    count = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport: asyncio.Transport = transport  # type: ignore[assignment]
        self.buffer = b""

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            head_end = self.buffer.find(b"\r\n\r\n")
            if head_end < 0:
                return
            head = self.buffer[:head_end].lower()
            start = head.find(b"content-length:")
            length = int(head[start + 15:head.find(b"\r\n", start) if head.find(
                b"\r\n", start) > 0 else None]) if start >= 0 else 0
            end = head_end + 4 + length
            if len(self.buffer) < end:
                return
            self.buffer = self.buffer[end:]
            _Receiver.count += 1
            self.transport.write(_ANSWER)


async def main(port: int) -> None:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    server = await loop.create_server(_Receiver, "127.0.0.1", port)
    print("ready", flush=True)
    await stop.wait()
    server.close()
    print(_Receiver.count, flush=True)


if __name__ == "__main__":
    uvloop.run(main(int(sys.argv[1])))
