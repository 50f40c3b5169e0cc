"""`scripts/bench --instructions`: instructions per request under callgrind.

Wall-clock figures move with whatever else the machine runs; the number of
instructions the server executes for a request does not. The gateway is served
under valgrind's callgrind with instrumentation off; each scenario's requests run
once to warm up, then instrumentation is switched on (`callgrind_control`) for the
same requests again, sent by a few clients at once (`--concurrency`, 8 by default)
with the scenarios' own verifying calls, and the dumped total is divided by the
requests. Each request goes out in one write, head and body together, as wrk sends
it (httpx writes them apart, and a body that comes after the head is a read that
waits: work the table's runs do not do). Work the gateway shares between requests in flight (link events written
together) is shared less than under wrk's 32 connections; one client at a time pays
it in full per request."""

from __future__ import annotations

import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import h11
import httpx

from bench import scenarios
from bench.server import Server, gateway_command


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise RuntimeError(f"{name} is required (apt-get install valgrind)")
    return path


def _control(pid: int, *args: str) -> None:
    command = [_tool("callgrind_control"), *args, str(pid)]
    subprocess.run(command, check=True, capture_output=True)  # noqa: S603 (built here, no shell)


def _total(dump: Path) -> int:
    for line in dump.read_text().splitlines():
        if line.startswith("totals:"):
            return int(line.split()[1])
    raise RuntimeError(f"no totals in {dump}")


def measure(ctx: scenarios.Context, env: dict[str, str], requests: int, concurrency: int,
            out: Path, wanted: Callable[[str], bool]) -> dict[str, float]:
    """Instructions per request for scenarios 1-5, keyed by scenario."""
    for old in out.glob("callgrind.*"):
        old.unlink()
    # Start-up under valgrind takes a while. Valgrind runs the program in its own
    # process: the server's pid is the one callgrind_control addresses.
    callgrind = [_tool("valgrind"), "--tool=callgrind", "--instr-atstart=no",
                 f"--callgrind-out-file={out}/callgrind.%p"]
    server = Server("gateway under callgrind", [*callgrind, *gateway_command()], env, 1, None,
                    out / "callgrind-server.log", ready_seconds=600)
    try:
        hot, pool = scenarios.hot(ctx), scenarios.mutation_pool(ctx)
        cases: list[tuple[str, Callable[[httpx.Client, int], Any], list[int], int]] = [
            ("1", lambda c, n: scenarios.link_graphql_verify(ctx, c, n), ctx.merchants(), 1),
            ("2", lambda c, n: scenarios.link_rest_verify(ctx, c, n), ctx.merchants(), 1),
            ("3", lambda c, n: scenarios.portal_verify(ctx, c, n), hot, 1),
            # pause, the pause replayed, reactivate: three requests per call
            ("4", lambda c, n: scenarios.mutation_verify(ctx, c, n), pool, 3),
            ("5", lambda c, n: scenarios.flood_verify(ctx, c, n), hot, 1),
        ]
        results: dict[str, float] = {}
        for key, verify, samples, per_call in cases:
            if not wanted(key):
                continue
            # The measured requests are the warm-up's again, as wrk's list repeats:
            # caches (API keys, verified links, documents) are warm, as under load.
            calls = (samples * (1 + requests // len(samples)))[:requests]
            _send(server.url, verify, calls, concurrency)
            _control(server.process.pid, "--zero")
            _control(server.process.pid, "--instr=on")
            _send(server.url, verify, calls, concurrency)
            _control(server.process.pid, "--instr=off")
            before = set(out.glob("callgrind.*"))
            _control(server.process.pid, "--dump")
            dump = _newest(out, before)
            results[key] = _total(dump) / (requests * per_call)
        return results
    finally:
        server.stop()


def _send(url: str, verify: Callable[[httpx.Client, int], Any], calls: list[int],
          concurrency: int) -> None:
    """Every call, from `concurrency` clients at once (each with its own connection)."""
    local = threading.local()
    clients: list[httpx.Client] = []

    def one(n: int) -> None:
        client = getattr(local, "client", None)
        if client is None:
            client = local.client = httpx.Client(base_url=url, transport=OneWrite(url))
            clients.append(client)
        verify(client, n)

    try:
        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            for future in [pool.submit(one, n) for n in calls]:
                future.result()
    finally:
        for client in clients:
            client.close()


class OneWrite(httpx.BaseTransport):
    """HTTP/1.1 over one kept-alive connection, each request sent in one write."""

    def __init__(self, url: str) -> None:
        parsed = httpx.URL(url)
        self.address = (parsed.host, parsed.port or 80)
        self.sock: socket.socket | None = None
        self.conn = h11.Connection(h11.CLIENT)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self.sock is None:
            self.sock = socket.create_connection(self.address, timeout=120)
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.conn = h11.Connection(h11.CLIENT)
        body = request.read()
        out = self.conn.send(h11.Request(method=request.method, target=request.url.raw_path,
                                         headers=list(request.headers.raw)))
        if body:
            out += self.conn.send(h11.Data(data=body))
        self.sock.sendall(out + self.conn.send(h11.EndOfMessage()))
        head: h11.Response | None = None
        content = bytearray()
        while True:
            event = self.conn.next_event()
            if event is h11.NEED_DATA:
                self.conn.receive_data(self.sock.recv(65536))
            elif isinstance(event, h11.Response):
                head = event
            elif isinstance(event, h11.Data):
                content += event.data
            elif isinstance(event, h11.EndOfMessage):
                break
            elif isinstance(event, h11.ConnectionClosed):
                raise ConnectionError("the server closed the connection")
        if head is None:  # h11 yields the response's head before its end
            raise ConnectionError("a response without a head")
        if self.conn.our_state is h11.DONE and self.conn.their_state is h11.DONE:
            self.conn.start_next_cycle()
        else:  # the server closes this connection: the next request opens another
            self.close()
        return httpx.Response(head.status_code, headers=list(head.headers),
                              content=bytes(content), request=request)

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None


def _newest(out: Path, before: set[Path]) -> Path:
    for _ in range(100):
        new = set(out.glob("callgrind.*")) - before
        if new:
            return max(new, key=lambda p: p.stat().st_mtime)
        time.sleep(0.1)
    raise RuntimeError("callgrind wrote no dump")
