"""Scale-out runs of scripts/bench: the gateway as separate processes behind
Debian's nginx (`--processes N`: 1, then N), and on a Redis Cluster beside a single
Redis (`--cluster`). Same scenarios, same wrk; nginx's own CPU is part of what the
machine spends, and on a 2-core machine wrk, nginx and the processes share it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bench.server import Server, gateway_command
from tests.services import PrivateNginx, PrivateRedisCluster


@dataclass
class Balanced:
    """N single-worker gateway processes behind nginx, used as one Server."""

    name: str
    servers: list[Server]
    nginx: PrivateNginx

    @classmethod
    def start(cls, name: str, processes: int, env: dict[str, str], out: Path) -> Balanced:
        servers: list[Server] = []
        try:
            for i in range(processes):
                servers.append(Server(f"{name}-{i}", gateway_command(), env, 1, None,
                                      out / f"{name}-{i}.log"))
            nginx = PrivateNginx([server.port for server in servers])
            nginx.start()
        except BaseException:
            for server in servers:
                server.stop()
            raise
        return cls(name, servers, nginx)

    @property
    def url(self) -> str:
        return self.nginx.url

    def cpu_seconds(self) -> float:
        return sum(server.cpu_seconds() for server in self.servers)

    def peak_rss_mb(self) -> list[float]:
        return [mb for server in self.servers for mb in server.peak_rss_mb()]

    def worker_pids(self) -> list[int]:
        return [pid for server in self.servers for pid in server.worker_pids()]

    def stop(self) -> None:
        self.nginx.cleanup()
        for server in self.servers:
            server.stop()


def start_cluster() -> PrivateRedisCluster:
    cluster = PrivateRedisCluster()
    try:
        cluster.start()
    except BaseException:
        cluster.cleanup()
        raise
    return cluster
