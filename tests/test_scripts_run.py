"""scripts/run as a newcomer runs it: the printed curl example and portal link work."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from tests.servers import ROOT
from tests.services import free_port


class _Receiver:
    """A plain HTTP server on a thread, recording the POSTs it gets."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []
        self.headers: list[dict[str, str]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", "0"))
                outer.headers.append({k.lower(): v for k, v in self.headers.items()})
                outer.bodies.append(self.rfile.read(length))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> _Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.mark.slow
def test_scripts_run_serves_and_its_printed_example_works(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "PORT": str(port), "DATABASE_URL": f"sqlite:///{tmp_path / 'run.db'}",
           "REDIS_URL": "", "LOG_LEVEL": "WARNING"}
    log = tmp_path / "run.log"
    with open(log, "wb") as out:
        process = subprocess.Popen([str(ROOT / "scripts" / "run")], cwd=tmp_path, env=env,
                                   stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            assert process.poll() is None, log.read_text()
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        printed = log.read_text()
        key_id = re.search(r"API key id\s+(mk_makepay_\w+)", printed)
        secret = re.search(r"API secret\s+(\S+)", printed)
        curl_url = re.search(r'curl -X POST "([^"]+)"', printed)
        portal = re.search(r"(http://\S+/billing\?\S+)", printed)
        assert key_id, printed
        assert secret, printed
        assert curl_url, printed
        assert portal, printed

        response = httpx.post(curl_url.group(1), headers={
            "x-makecrypto-key-id": key_id.group(1), "x-makecrypto-key-secret": secret.group(1),
            "Accept": "application/json"}, timeout=10)

        assert response.status_code == 200, response.text
        body = response.json()
        assert body["ok"] is True
        assert body["companyId"] == "acct_demo"
        assert body["customer"]["urls"]["customerPortal"].startswith(f"{base}/billing?company=acct_demo&")
        assert portal.group(1).startswith(f"{base}/billing?company=acct_demo&customer=cus_")
        page = httpx.get(portal.group(1), timeout=10)
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
        data = httpx.post(f"{base}/graphql", timeout=10, json={"query": "{ portal { customer { name } } }"},
                          headers={"x-makepay-portal": portal.group(1).split("?", 1)[1]})
        assert data.json() == {"data": {"portal": {"customer": {"name": "Ada Lovelace"}}}}

        # The printed webhook instructions, pointed at a receiver of the test's own.
        create = re.search(r"(\.venv/bin/gateway webhooks create .*)", printed)
        assert create, printed
        with _Receiver() as received:
            command = create.group(1).replace("http://127.0.0.1:9000/", received.url).split()
            subprocess.run(command, cwd=ROOT, env=env, check=True, capture_output=True,
                           timeout=60)
            link = {"x-makepay-portal": portal.group(1).split("?", 1)[1]}
            subscriptions = httpx.post(f"{base}/graphql", timeout=10, headers=link, json={
                "query": "{ portal { subscriptions { id status } } }"}).json()
            active = next(s["id"] for s in subscriptions["data"]["portal"]["subscriptions"]
                          if s["status"] == "active")
            paused = httpx.post(f"{base}/graphql", timeout=10, headers=link, json={
                "query": "mutation($id: ID!) { pauseSubscription(subscriptionId: $id) "
                         "{ status } }", "variables": {"id": active}})
            assert paused.json()["data"]["pauseSubscription"]["status"] == "paused"
            deadline = time.monotonic() + 30
            while not received.bodies and time.monotonic() < deadline:
                time.sleep(0.1)
            assert [json.loads(b)["type"] for b in received.bodies] == ["subscription.paused"]
            assert received.headers[0]["webhook-signature"].startswith("v1,")
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)
