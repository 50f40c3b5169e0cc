"""Real `gateway serve` processes on free ports, for the tests that need a server."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson

from tests.services import free_port, wait_until

GATEWAY = str(Path(sys.executable).parent / "gateway")


class GatewayProcess:
    def __init__(self, env: dict[str, str], log_dir: Path, name: str, workers: int = 1,
                 port: int | None = None) -> None:
        self.env = env
        self.port = port or free_port()
        self.workers = workers
        self.log_path = log_dir / f"{name}.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def spawn(self, from_env: bool = False) -> None:
        """`from_env`: port and worker count from PORT and WEB_CONCURRENCY, as the image's
        command `gateway serve --host 0.0.0.0` takes them."""
        command = [GATEWAY, "serve", "--host", "127.0.0.1"]
        env = dict(self.env)
        if from_env:
            env |= {"PORT": str(self.port), "WEB_CONCURRENCY": str(self.workers)}
        else:
            command += ["--port", str(self.port), "--workers", str(self.workers)]
        with self.log_path.open("ab") as log:
            # Its own process group, so that killing it takes its worker processes too.
            self.process = subprocess.Popen(
                command, env=env, stdout=log, stderr=log, stdin=subprocess.DEVNULL,
                start_new_session=True)

    def ready(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise RuntimeError(f"gateway exited with {self.process.returncode}: "
                               f"{self.log_path.read_text()[-2000:]}")
        try:
            return httpx.get(f"{self.url}/healthz", timeout=1.0).status_code == 200
        except httpx.HTTPError:
            return False

    def start(self, from_env: bool = False) -> GatewayProcess:
        self.spawn(from_env)
        wait_until(self.ready, "gateway did not become healthy")
        return self

    def terminate(self) -> None:
        """SIGTERM, as an orchestrator sends it: stop accepting, finish what is in flight."""
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)

    def wait(self, timeout: float = 30.0) -> int:
        assert self.process is not None
        return self.process.wait(timeout=timeout)

    def stopped_cleanly(self) -> bool:
        """Exited after a graceful shutdown. uvicorn re-raises the SIGTERM it handled once
        it has finished, so the exit status is -SIGTERM, and the log says it finished."""
        returncode = self.wait()
        finished = any('"Application shutdown complete."' in line for line in self.log_lines())
        return returncode in (0, -signal.SIGTERM) and finished

    @property
    def exited(self) -> bool:
        return self.process is not None and self.process.poll() is not None

    def kill(self) -> None:
        """Whatever a failed test left: the server and its workers, by process group."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def log_lines(self) -> list[str]:
        return self.log_path.read_text(errors="replace").splitlines()


def cli(env: dict[str, str], *args: str) -> dict[str, object]:
    result = subprocess.run([GATEWAY, *args, "--json"], env=env, check=True,
                            capture_output=True, timeout=60)
    value: dict[str, object] = orjson.loads(result.stdout.splitlines()[-1])
    return value


def base_env(**values: str) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items()
            if k in {"PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "VIRTUAL_ENV"}}
    return {**keep, **values}


def start_all(*gateways: GatewayProcess) -> None:
    for gateway in gateways:
        gateway.spawn()
    for gateway in gateways:
        wait_until(gateway.ready, "gateway did not become healthy")


@contextlib.contextmanager
def worker_process(env: dict[str, str], log: Path, *,
                   concurrency: int = 4) -> Iterator[subprocess.Popen[bytes]]:
    """`gateway worker`, stopped with SIGTERM afterwards (if a test has not killed it)."""
    with log.open("ab") as out:
        process = subprocess.Popen([GATEWAY, "worker", "--concurrency", str(concurrency)],
                                   env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
