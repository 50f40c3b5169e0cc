"""scripts/bench runs end to end (a tiny run: no timing is asserted, only that the
table is printed and no scenario saw an error)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _bench(postgres_server_url: str, redis_url: str, *args: str, timeout: int) -> str:
    """scripts/bench's output, once it has exited 0."""
    env = {**os.environ, "TEST_POSTGRES_URL": postgres_server_url, "TEST_REDIS_URL": redis_url}
    done = subprocess.run(
        [str(ROOT / "scripts" / "bench"), "--small", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed")
def test_bench_small_prints_the_table_without_errors(postgres_server_url: str, redis_url: str) -> None:
    output = _bench(postgres_server_url, redis_url, "--duration", "1", "--warmup", "0",
                    timeout=240)
    for scenario in ("1 createPortalLink", "2 REST partner route", "3 portal data query",
                     "4 portal pause/reactivate", "4w the same, one webhook endpoint",
                     "5 invalid-signature flood",
                     "6 reference floor", "7 scenario 3 at"):
        assert re.search(rf"^{re.escape(scenario)}.*\s0\s+[\d,]+\s", output, re.MULTILINE), (
            scenario, output)
    assert "0 DB statements" in output
    assert re.search(r"^8 webhook delivery.*1,000 of 1,000 events.*.*receiver counted 1,000",
                     output, re.MULTILINE), output
    assert re.search(r"^peak RSS per worker, gateway: \d+ MB", output, re.MULTILINE)
    assert re.search(r"^errors: 0$", output, re.MULTILINE)


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("valgrind") is None, reason="valgrind is not installed")
def test_bench_counts_instructions_per_request(postgres_server_url: str, redis_url: str) -> None:
    output = _bench(postgres_server_url, redis_url, "--instructions", "20", "--only", "3,5",
                    timeout=400)
    counts = dict(re.findall(r"^([1-5])\s+([\d,]+)k$", output, re.MULTILINE))
    assert set(counts) == {"3", "5"}, output
    # A request of either kind runs far more than 100,000 instructions: a count of
    # zero (instrumentation never on) or of the client's side would not.
    assert all(int(count.replace(",", "")) > 100 for count in counts.values()), counts
