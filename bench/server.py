"""Start and stop a uvicorn server (the gateway or the floor) and read its peak RSS."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Protocol

import httpx

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _children(pid: int) -> list[int]:
    """Worker processes of a uvicorn master (not multiprocessing's resource tracker)."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        for child in task.read_text().split():
            try:
                cmdline = Path(f"/proc/{child}/cmdline").read_bytes()
            except OSError:
                continue
            if b"resource_tracker" not in cmdline:
                found.append(int(child))
    return found


def _peak_rss_mb(pid: int) -> float:
    """VmHWM: the kernel's own high-water mark of the process' resident set."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


_TICKS = os.sysconf("SC_CLK_TCK")


def _cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process (fields 14 and 15 of /proc/PID/stat)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICKS


class Served(Protocol):
    """What a scenario run needs of what serves it: a Server, or processes behind nginx."""

    @property
    def url(self) -> str: ...

    def cpu_seconds(self) -> float: ...

    def worker_pids(self) -> list[int]: ...


class Server:
    def __init__(self, name: str, app_args: list[str], env: dict[str, str], workers: int,
                 cpu: str | None, log: Path, ready_seconds: float = 60) -> None:
        self.name = name
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.workers = workers
        command = [*app_args, "--host", "127.0.0.1", "--port", str(self.port),
                   "--workers", str(workers)]
        if cpu is not None:
            command = ["taskset", "-c", cpu, *command]
        self._log = log.open("w")
        self.process = subprocess.Popen(  # noqa: S603 (argument list built here, no shell)
            command, cwd=ROOT, env={**os.environ, **env}, stdout=self._log,
            stderr=subprocess.STDOUT, start_new_session=True,
        )
        self._wait_ready(log, ready_seconds)

    def _wait_ready(self, log: Path, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited: {log.read_text()[-2000:]}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    # Every worker must be up, not only the first to answer.
                    if self.workers == 1 or len(_children(self.process.pid)) >= self.workers:
                        return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"{self.name} did not become ready: {log.read_text()[-2000:]}")

    def worker_pids(self) -> list[int]:
        if self.workers == 1:
            return [self.process.pid]
        return _children(self.process.pid)

    def cpu_seconds(self) -> float:
        return sum(_cpu_seconds(pid) for pid in self.worker_pids())

    def peak_rss_mb(self) -> list[float]:
        return [_peak_rss_mb(pid) for pid in self.worker_pids()]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=25)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()


def gateway_command() -> list[str]:
    return [sys.executable, "-m", "gateway", "serve", "--no-access-log"]


def floor_command() -> list[str]:
    return [sys.executable, "-m", "uvicorn", "bench.floor:app", "--loop", "uvloop",
            "--http", "httptools", "--no-access-log", "--log-level", "warning"]
