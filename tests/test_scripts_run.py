"""scripts/run as a newcomer runs it: the printed curl example and portal link work."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests.servers import ROOT, free_port


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
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)
