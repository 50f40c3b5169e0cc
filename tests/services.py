"""Private Redis and PostgreSQL servers that a test may stop, freeze and restart.

They bind free ports on 127.0.0.1 and live in temporary directories; the shared
servers other tests use are never touched. PostgreSQL refuses to run as root, so as
root its commands run as the `postgres` user."""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

STARTUP_SECONDS = 20.0


def free_port() -> int:
    return distinct_free_ports(1)[0]


def port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


def missing_binaries(*names: str) -> str:
    """The named programs not installed, as text for a skip reason ('' if none)."""
    return ", ".join(name for name in names if shutil.which(name) is None)


def wait_until(predicate: object, what: str, seconds: float = STARTUP_SECONDS) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.05)
    raise TimeoutError(f"{what} within {seconds}s")


def distinct_free_ports(count: int) -> list[int]:
    """`count` ports free now and different from each other: each socket stays bound
    until all are chosen, so the kernel cannot hand the same port out twice."""
    with contextlib.ExitStack() as stack:
        socks = [stack.enter_context(socket.socket()) for _ in range(count)]
        for sock in socks:
            sock.bind(("127.0.0.1", 0))
        return [int(sock.getsockname()[1]) for sock in socks]


class PrivateRedis:
    def __init__(self, *extra: str, port: int | None = None) -> None:
        self.port = port or free_port()
        self.dir = tempfile.mkdtemp(prefix="gw-redis-")
        self.process: subprocess.Popen[bytes] | None = None
        self.extra = extra  # further redis-server options

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        if self.process is not None:
            return
        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        self.process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", self.dir, "--daemonize", "no",
             "--logfile", str(Path(self.dir) / "redis.log"), *self.extra],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        wait_until(lambda: port_open(self.port), "Redis did not start")

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.send_signal(signal.SIGCONT)  # in case it was frozen
        self.process.terminate()
        self.process.wait(timeout=10)
        self.process = None
        wait_until(lambda: not port_open(self.port), "Redis did not stop")

    def kill(self) -> None:
        """SIGKILL: the server is gone at once, as when its host fails."""
        assert self.process is not None
        self.process.kill()
        self.process.wait(timeout=10)
        self.process = None

    def freeze(self) -> None:
        """SIGSTOP: connections are still accepted by the kernel, nothing answers."""
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


class PrivateRedisCluster:
    """A Redis Cluster of three primaries, each with one replica: six redis-servers
    on free ports, joined by `redis-cli --cluster create`. A node may be killed; its
    replica takes over after NODE_TIMEOUT_MS."""

    NODE_TIMEOUT_MS = 1000

    def __init__(self) -> None:
        # The cluster bus port given too: the default, port + 10000, may not exist. All
        # twelve ports differ: a node whose bus port another one took cannot join.
        ports = distinct_free_ports(12)
        self.nodes = [PrivateRedis("--cluster-enabled", "yes", "--cluster-port", str(bus),
                                   "--cluster-node-timeout", str(self.NODE_TIMEOUT_MS),
                                   "--cluster-config-file", "nodes.conf", port=port)
                      for port, bus in zip(ports[:6], ports[6:], strict=True)]

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.nodes[0].port}/0"

    def start(self) -> None:
        for node in self.nodes:
            node.start()
        created = subprocess.run(
            [shutil.which("redis-cli") or "/usr/bin/redis-cli", "--cluster", "create",
             *(f"127.0.0.1:{node.port}" for node in self.nodes),
             "--cluster-replicas", "1", "--cluster-yes"],
            capture_output=True, text=True, timeout=60)
        if created.returncode != 0:  # redis-cli says why on stdout
            raise RuntimeError(f"redis-cli --cluster create failed: {created.stdout[-2000:]}"
                               f"{created.stderr[-500:]}")
        wait_until(self.healthy, "the Redis Cluster did not form")

    def info(self, node: PrivateRedis, *command: str) -> str:
        return subprocess.run(
            [shutil.which("redis-cli") or "/usr/bin/redis-cli", "-p", str(node.port), *command],
            capture_output=True, text=True, timeout=10).stdout

    def healthy(self) -> bool:
        """Every live node says the cluster is ok and knows three primaries."""
        for node in self.nodes:
            if node.process is None:
                continue
            info = self.info(node, "cluster", "info")
            if "cluster_state:ok" not in info or "cluster_size:3" not in info:
                return False
        return True

    def primary_of(self, key: str) -> PrivateRedis:
        """The live node that serves `key`'s slot now (CLUSTER NODES, its own line)."""
        slot = int(self.info(self.nodes[0], "cluster", "keyslot", key).strip())
        for node in self.nodes:
            if node.process is None:
                continue
            for line in self.info(node, "cluster", "nodes").splitlines():
                fields = line.split()
                if "myself" not in fields[2] or "master" not in fields[2]:
                    continue
                for span in fields[8:]:
                    low, _, high = span.partition("-")
                    if low.isdigit() and int(low) <= slot <= int(high or low):
                        return node
        raise LookupError(f"no live primary serves slot {slot}")

    def cleanup(self) -> None:
        for node in self.nodes:
            node.cleanup()


@contextmanager
def running_cluster() -> Iterator[PrivateRedisCluster]:
    """A started cluster, stopped and removed afterwards; the test is skipped when
    Redis' binaries are not installed."""
    missing = missing_binaries("redis-server", "redis-cli")
    if missing:
        pytest.skip(f"a Redis Cluster needs {missing} (apt-get install redis-server)")
    cluster = PrivateRedisCluster()
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.cleanup()


NGINX_CONF = """\
worker_processes 1;
error_log {dir}/error.log warn;
pid {dir}/nginx.pid;
{user}
events {{ worker_connections 512; }}
http {{
  access_log off;
  client_body_temp_path {dir}/body;
  proxy_temp_path {dir}/proxy;
  fastcgi_temp_path {dir}/fastcgi;
  uwsgi_temp_path {dir}/uwsgi;
  scgi_temp_path {dir}/scgi;
{site}
}}
"""

# The configuration docs/operations.md gives, as tested: `{upstreams}` and `{listen}`
# filled in. No keep-alive to the gateways: a stopped gateway refuses the connection
# before any request was sent on it, so nginx passes even a POST to the next one
# (non-idempotent requests are never retried once sent).
NGINX_SITE = """\
  upstream gateway {{
{upstreams}
  }}
  server {{
    listen {listen};
    client_max_body_size 64k;
    client_header_timeout 10s;
    client_body_timeout 10s;
    location / {{
      proxy_pass http://gateway;
      proxy_http_version 1.1;
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_connect_timeout 2s;
      proxy_send_timeout 30s;
      proxy_read_timeout 30s;
      proxy_next_upstream error timeout;
      proxy_next_upstream_tries 2;{extra}
    }}
  }}
"""


class PrivateNginx:
    """Debian's nginx in front of gateway processes on 127.0.0.1, round robin."""

    def __init__(self, upstream_ports: list[int]) -> None:
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="gw-nginx-"))
        self.upstream_ports = list(upstream_ports)
        self._write(down=())
        self.process: subprocess.Popen[bytes] | None = None

    def _write(self, down: tuple[int, ...]) -> None:
        upstreams = "\n".join(
            f"    server 127.0.0.1:{port} max_fails=1 fail_timeout=2s{' down' if port in down else ''};"
            for port in self.upstream_ports)
        # The tests' own addition: which gateway answered (not for production: it names
        # internal addresses to clients).
        extra = "\n      add_header X-Upstream $upstream_addr always;"
        site = NGINX_SITE.format(upstreams=upstreams, listen=f"127.0.0.1:{self.port}", extra=extra)
        user = "user root;" if os.geteuid() == 0 else ""
        (self.dir / "nginx.conf").write_text(NGINX_CONF.format(dir=self.dir, user=user, site=site))

    def take_out(self, port: int) -> None:
        """Marks one gateway `down` and reloads (SIGHUP), as an operator does before
        stopping it: nginx has no health checks of its own to learn it from /readyz."""
        assert self.process is not None
        self._write(down=(port,))
        self.process.send_signal(signal.SIGHUP)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [shutil.which("nginx") or "/usr/sbin/nginx", "-p", str(self.dir), "-c",
             str(self.dir / "nginx.conf"), "-g", "daemon off;"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until(lambda: port_open(self.port), "nginx did not start")

    def cleanup(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None
        shutil.rmtree(self.dir, ignore_errors=True)


def _postgres_bin() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]))
    if not found:
        raise RuntimeError("PostgreSQL server binaries are not installed")
    return Path(found[-1])


class PrivatePostgres:
    """A PostgreSQL server of the test's own; with `primary`, a streaming replica of
    that server (pg_basebackup -R: a standby that follows the primary's WAL)."""

    def __init__(self, primary: PrivatePostgres | None = None) -> None:
        self.port = free_port()
        self.bin = _postgres_bin()
        self.dir = Path(tempfile.mkdtemp(prefix="gw-pg-"))
        self.data = self.dir / "data"
        self.running = False
        self._as_postgres: list[str] = []
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres")
            self._as_postgres = ["runuser", "-u", "postgres", "--"]
        if primary is None:
            self._run(str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres",
                      "--auth=trust", "-E", "UTF8", "--no-sync")
        else:
            self._run(str(self.bin / "pg_basebackup"), "-h", "127.0.0.1", "-p", str(primary.port),
                      "-U", "postgres", "-D", str(self.data), "-R", "-X", "stream", "--no-sync")

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *command: str) -> None:
        subprocess.run([*self._as_postgres, *command], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=60)

    def start(self) -> None:
        if self.running:
            return
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.dir / "pg.log"),
                  "-w", "-o", f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 "
                  "-c fsync=off -c max_connections=50", "start")
        self.running = True

    def stop(self) -> None:
        """A fast shutdown: open sessions are cut, as when a server fails over."""
        if not self.running:
            return
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")
        self.running = False

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
