"""wrk runs: a scenario becomes a Lua table (BENCH_SPEC) read by bench/wrk.lua."""

from __future__ import annotations

import json
import os
import re
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

WRK_SCRIPT = Path(__file__).with_name("wrk.lua")
_SUMMARY = re.compile(r"^BENCH (.*)$", re.MULTILINE)
_SAMPLE = re.compile(r"^BENCH_SAMPLE (.*)$", re.MULTILINE)


def lua(value: Any) -> str:
    """A Lua literal for plain data (strings are ASCII; JSON escapes are valid Lua)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list | tuple):
        return "{" + ",".join(lua(v) for v in value) + "}"
    if isinstance(value, dict):
        return "{" + ",".join(f"[{lua(k)}]={lua(v)}" for k, v in value.items()) + "}"
    raise TypeError(type(value))


@dataclass
class WrkResult:
    requests: int = 0
    seconds: float = 0.0
    socket_errors: int = 0
    non_2xx: int = 0
    bad: int = 0
    p50_ms: float = 0.0
    p90_ms: float = 0.0
    p99_ms: float = 0.0
    sample: str = ""
    cpu_seconds: float = 0.0  # the server's, during the run

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def cpu_us(self) -> float:
        """Server CPU time per request: steadier than req/s on a shared machine, since
        other load slows the server down without making its work larger."""
        return self.cpu_seconds / self.requests * 1e6 if self.requests else 0.0


@dataclass
class Wrk:
    connections: int
    threads: int
    cpu: str | None  # a taskset CPU list, or None

    def run(self, url: str, spec: dict[str, Any], seconds: int) -> WrkResult:
        with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
            handle.write("return " + lua(spec) + "\n")
            spec_path = handle.name
        command = ["wrk", f"-t{self.threads}", f"-c{self.connections}", f"-d{seconds}s",
                   "--timeout", "5s", "-s", str(WRK_SCRIPT), url]
        if self.cpu is not None:
            command = ["taskset", "-c", self.cpu, *command]
        try:
            done = subprocess.run(  # noqa: S603 (argument list built here, no shell)
                command, capture_output=True, text=True, check=False,
                timeout=seconds + 60, env={**os.environ, "BENCH_SPEC": spec_path})
        finally:
            os.unlink(spec_path)
        found = _SUMMARY.search(done.stdout)
        if done.returncode != 0 or found is None:
            raise RuntimeError(f"wrk failed ({done.returncode}): {done.stdout[-500:]} {done.stderr[-500:]}")
        values = dict(pair.split("=") for pair in found.group(1).split())
        sample = _SAMPLE.search(done.stdout)
        return WrkResult(
            requests=int(values["requests"]),
            seconds=int(values["duration_us"]) / 1e6,
            socket_errors=sum(int(values[k]) for k in ("connect", "read", "write", "timeout")),
            non_2xx=int(values["status"]),
            bad=int(values["bad"]),
            p50_ms=int(values["p50"]) / 1000,
            p90_ms=int(values["p90"]) / 1000,
            p99_ms=int(values["p99"]) / 1000,
            sample=sample.group(1) if sample else "",
        )
