"""The HTTP layer of a real `gateway serve` process, spoken to over raw sockets: aborted
uploads, trickled bodies, oversized heads, request ids and /metrics in production.

The server runs in production mode on a SQLite database that was never migrated, so
that every query fails: the masked internal error is reachable without a fault
injected into the code."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from tests.conftest import SIGNING_SECRETS
from tests.operations.processes import GatewayProcess, base_env
from tests.services import wait_until

pytestmark = pytest.mark.slow

METRICS_TOKEN = "metrics-token-for-the-scraper-0123456789"
HEAD_LIMIT = 8192
FORGED = "zz) FORGED-LOG-TEXT user=admin (x"
KEY_HEADERS = {"x-makecrypto-key-id": "mk_makepay_0123456789abcdefghijklmn",
               "x-makecrypto-key-secret": "s" * 43}


def production_env(database: Path, **values: str) -> dict[str, str]:
    return base_env(
        ENVIRONMENT="production",
        DATABASE_URL=f"sqlite:///{database}",
        PORTAL_SIGNING_SECRETS=",".join(SIGNING_SECRETS),
        API_KEY_PEPPER="test-api-key-pepper-0123456789abcdefghij",
        LOG_JSON="true",
        BODY_READ_TIMEOUT_SECONDS="1",
        MAX_HEADER_BYTES=str(HEAD_LIMIT),
        **values,
    )


class Server:
    """One process for the module; each test reads the log lines its requests added."""

    def __init__(self, process: GatewayProcess) -> None:
        self.process = process
        self.mark = 0

    def connect(self) -> socket.socket:
        return socket.create_connection(("127.0.0.1", self.process.port), timeout=10)

    def new_lines(self) -> list[dict[str, Any]]:
        """The log records written since the previous call. Waits until a /healthz sent
        now has been logged, so that whatever earlier requests caused is in the log."""
        httpx.get(f"{self.process.url}/healthz", timeout=10)

        def healthz_logged() -> bool:
            return any('"/healthz"' in line for line in self.process.log_lines()[self.mark:])

        wait_until(healthz_logged, "the /healthz request was not logged", seconds=10)
        lines = self.process.log_lines()
        records = [orjson.loads(line) for line in lines[self.mark:]]
        self.mark = len(lines)
        return [r for r in records if r.get("path") != "/healthz"]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    directory = tmp_path_factory.mktemp("http-server")
    env = production_env(directory / "never-migrated.db", METRICS_TOKEN=METRICS_TOKEN)
    process = GatewayProcess(env, directory, "gateway")
    try:
        served = Server(process.start())
        served.new_lines()  # start-up lines
        yield served
    finally:
        process.kill()


def read_response(conn: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """Status, headers and body of one response (the server closes or sends a length)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            break
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in header_lines)
    length = headers.get("content-length")
    while length is None or len(body) < int(length):
        chunk = conn.recv(65536)
        if not chunk:
            break
        body += chunk
    if headers.get("transfer-encoding") == "chunked":
        size, _, rest = body.partition(b"\r\n")
        body = rest[:int(size, 16)]
    return int(status_line.split()[1]), headers, body


def request_head(method: str, path: str, headers: dict[str, str]) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1",
             *(f"{name}: {value}" for name, value in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


@pytest.mark.parametrize("path", ["/graphql", "/api/auth/login"])
def test_a_client_that_aborts_its_upload_is_one_info_line(server: Server, path: str) -> None:
    for _ in range(3):
        with server.connect() as conn:
            conn.sendall(request_head("POST", path, {"content-type": "application/json",
                                                     "content-length": "100"}) + b'{"query": ')
            time.sleep(0.2)  # the server is waiting for the rest of the body

    records = server.new_lines()

    assert [(r["level"], r["logger"], r["path"], r["status"]) for r in records] == [
        ("info", "gateway.access", path, 499)] * 3, records
    assert not any("exc" in r or "Traceback" in r["msg"] for r in records)


def test_a_trickled_body_is_cut_off_with_408(server: Server) -> None:
    started = time.monotonic()
    with server.connect() as conn:
        conn.sendall(request_head("POST", "/graphql", {"content-type": "application/json",
                                                       "content-length": "200"}))
        conn.settimeout(0.25)
        answer = b""
        while time.monotonic() - started < 8 and not answer:
            try:
                conn.sendall(b" ")  # a byte at a time, each well within any idle timeout
                answer = conn.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                break
        conn.settimeout(5)
        rest = b""
        while chunk := conn.recv(65536):  # then the server closes the connection
            rest += chunk
    elapsed = time.monotonic() - started

    head, _, body = (answer + rest).partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 408 "), head
    assert b"connection: close" in head
    assert b'"code":"REQUEST_TIMEOUT"' in body
    assert elapsed < 5  # BODY_READ_TIMEOUT_SECONDS is 1 here
    assert [(r["path"], r["status"]) for r in server.new_lines()] == [("/graphql", 408)]


def test_a_body_sent_in_time_is_read(server: Server) -> None:
    body = orjson.dumps({"query": "{ __typename }"})
    with server.connect() as conn:
        conn.sendall(request_head("POST", "/graphql", {"content-type": "application/json",
                                                       "content-length": str(len(body))}))
        for start in range(0, len(body), 8):  # in pieces, but within the time limit
            time.sleep(0.05)
            conn.sendall(body[start:start + 8])
        status, _, answer = read_response(conn)

    assert (status, orjson.loads(answer)) == (200, {"data": {"__typename": "Query"}})
    server.new_lines()


@pytest.mark.parametrize("pause", [False, True], ids=["one-write", "end-later"])
def test_a_head_over_the_limit_is_refused_with_431(server: Server, pause: bool) -> None:
    # 100 KB of headers in one write, or all but the blank line that ends them and that
    # line a moment later (a small last read must not hide the large ones before it).
    head = request_head("GET", "/graphql", {f"x-padding-{i}": "a" * 1000 for i in range(100)})
    with server.connect() as conn:
        if pause:
            conn.sendall(head[:-2])
            time.sleep(0.2)
            conn.sendall(head[-2:])
        else:
            conn.sendall(head)
        status, response_headers, body = read_response(conn)
        assert conn.recv(65536) == b""  # and the connection is closed

    assert status == 431
    assert response_headers["connection"] == "close"
    assert orjson.loads(body)["error"]["code"] == "HEADERS_TOO_LARGE"
    assert [r["status"] for r in server.new_lines()] == [431]


def test_a_head_that_never_ends_is_cut_off_at_the_limit(server: Server) -> None:
    received = b""
    with server.connect() as conn:
        conn.sendall(b"GET /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nx-endless: ")
        try:
            for _ in range(100):  # 100 KB of one header's value, in separate reads
                conn.sendall(b"a" * 1000)
                time.sleep(0.005)
        except OSError:
            pass  # the server closed the connection: what is sent next has nowhere to go
        conn.settimeout(5)
        try:
            while chunk := conn.recv(65536):
                received += chunk
        except ConnectionResetError:
            pass

    assert received.startswith(b"HTTP/1.1 431 "), received[:200]
    assert [r["status"] for r in server.new_lines()] == [431]


def test_a_head_under_the_limit_is_served(server: Server) -> None:
    headers = {f"x-padding-{i}": "a" * 1000 for i in range(HEAD_LIMIT // 1100)}
    response = httpx.get(f"{server.process.url}/healthz", headers=headers, timeout=10)

    assert response.status_code == 200
    server.new_lines()


@pytest.mark.parametrize(("method", "path", "headers", "body"), [
    ("POST", "/api/partner/v1/makepay/customers/cus_01hzy4k6p4w9y2x7e2z7n8a2xm/portal",
     KEY_HEADERS, None),
    ("POST", "/graphql", KEY_HEADERS, {"query": "{ customers(first: 1) { edges { cursor } } }"}),
])
def test_a_forged_request_id_never_reaches_an_error_body_or_a_log_line(
    server: Server, method: str, path: str, headers: dict[str, str], body: Any,
) -> None:
    response = httpx.request(method, f"{server.process.url}{path}", json=body, timeout=10,
                             headers={**headers, "x-request-id": FORGED})
    records = server.new_lines()

    request_id = response.headers["x-request-id"]
    assert request_id != FORGED
    assert "INTERNAL" in response.text  # the never-migrated database: a masked error
    assert f"Request id: {request_id}." in response.text  # the id the response header gives
    assert FORGED not in response.text
    logged = "\n".join(orjson.dumps(r).decode() for r in records)
    assert request_id in logged  # the same id in the access line and the error line
    assert any(r["level"] == "error" and request_id in r["msg"] for r in records), records
    assert FORGED not in logged
    assert "FORGED" not in logged


def test_a_well_formed_request_id_is_kept(server: Server) -> None:
    response = httpx.get(f"{server.process.url}/healthz", headers={"x-request-id": "trace-42"},
                         timeout=10)

    assert response.headers["x-request-id"] == "trace-42"
    server.new_lines()


def test_metrics_need_their_token_in_production(server: Server) -> None:
    url = f"{server.process.url}/metrics"

    anonymous = httpx.get(url, timeout=10)
    wrong = httpx.get(url, headers={"authorization": f"Bearer {METRICS_TOKEN}x"}, timeout=10)
    scraper = httpx.get(url, headers={"authorization": f"Bearer {METRICS_TOKEN}"}, timeout=10)

    assert anonymous.status_code == wrong.status_code == 401
    assert "gateway_requests_total" not in anonymous.text + wrong.text
    assert scraper.status_code == 200
    assert "gateway_requests_total" in scraper.text
    server.new_lines()


def test_metrics_are_not_served_in_production_without_a_token(
    launch: Callable[..., GatewayProcess], tmp_path: Path,
) -> None:
    gateway = launch(production_env(tmp_path / "gateway.db"), "no-token").start()

    response = httpx.get(f"{gateway.url}/metrics", timeout=10)

    assert response.status_code == 404
    assert "gateway_requests_total" not in response.text
