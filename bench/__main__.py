"""scripts/bench: load the gateway with wrk against real PostgreSQL and Redis.

Creates a fresh database on TEST_POSTGRES_URL's server, migrates and seeds it,
serves the gateway with uvicorn (uvloop, httptools, no access log), runs each
scenario (warm-up, then a measured wrk run framed by verification passes over
httpx), serves the reference floor the same way, prints the table, drops the
database and the run's Redis keys."""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from redis import Redis

from bench import dataset, instructions, scenarios, webhooks
from bench.dataset import Size
from bench.load import Wrk, WrkResult
from bench.scale import Balanced, start_cluster
from bench.server import ROOT, Served, Server, floor_command, gateway_command
from gateway import migrate
from gateway.config import Settings
from gateway.kit import loop
from gateway.kit.time import SystemClock
from gateway.signing.link import PortalLinkSigner

PEPPER = "bench-api-key-pepper-0123456789abcdefghij"
SIGNING_SECRET = "bench-portal-signing-secret-0123456789abcdef"  # noqa: S105 (the benchmark's own gateway)
NEVER_DELIVERED = "http://127.0.0.1:9/never-delivered"  # scenario 4w's endpoints
UNLIMITED = "10000000"  # budgets are not what is measured: every request runs its check
VERIFY_SAMPLES = 3


# wrk stops without waiting for its requests in flight; the server still runs them.
# Before resetting state between runs, give them time to land.
DRAIN_SECONDS = 2.0


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def fresh_keys(spec: dict[str, Any]) -> dict[str, Any]:
    """A spec with idempotency keys (the mutation scenario's nonce) new for each wrk run.
    Reusing them, the measured run replayed the warm-up's first results without
    acting (the idempotency contract), which showed as conflicts once the measured
    run got past its first lap over the subscriptions."""
    return {**spec, "nonce": uuid.uuid4().hex[:12]} if "nonce" in spec else spec


@dataclass
class Row:
    key: str
    title: str
    result: WrkResult | None = None
    verify_failures: list[str] = field(default_factory=list)
    note: str = ""

    @property
    def errors(self) -> int:
        if self.result is None:
            return len(self.verify_failures)
        return (self.result.socket_errors + self.result.bad + len(self.verify_failures))

    @property
    def rps(self) -> float:
        return self.result.rps if self.result else 0.0


@dataclass
class Bench:
    args: argparse.Namespace
    size: Size
    admin_url: str
    redis_url: str
    db_name: str = field(default_factory=lambda: f"gw_bench_{uuid.uuid4().hex[:10]}")
    prefix: str = field(default_factory=lambda: f"bench{uuid.uuid4().hex[:8]}")
    rows: dict[str, Row] = field(default_factory=dict)
    rss: dict[str, list[float]] = field(default_factory=dict)
    flood_statements: int | None = None
    portal_available: bool = False
    delivery: webhooks.DeliveryResult | None = None
    ctx: scenarios.Context = field(init=False)

    @property
    def db_url(self) -> str:
        return self.admin_url.rsplit("/", 1)[0] + f"/{self.db_name}"

    def server_env(self) -> dict[str, str]:
        return {
            "ENVIRONMENT": "production",
            "DATABASE_URL": self.db_url,
            "REDIS_URL": self.redis_url,
            "REDIS_KEY_PREFIX": self.prefix,
            "PORTAL_SIGNING_SECRETS": SIGNING_SECRET,
            "API_KEY_PEPPER": PEPPER,
            "PORTAL_BASE_URL": "https://makepay.io",
            "RATE_LIMIT_LINKS_PER_MINUTE": UNLIMITED,
            "RATE_LIMIT_AUTH_FAILURES_PER_MINUTE": UNLIMITED,
            "RATE_LIMIT_PORTAL_READS_PER_MINUTE": UNLIMITED,
            "RATE_LIMIT_PORTAL_WRITES_PER_MINUTE": UNLIMITED,
            "LOG_LEVEL": "WARNING",
        }

    # --- database ----------------------------------------------------------------

    async def create_database(self) -> None:
        admin = await asyncpg.connect(self.admin_url)
        try:
            await admin.execute(f'CREATE DATABASE "{self.db_name}"')
        finally:
            await admin.close()
        await asyncio.to_thread(migrate.upgrade, Settings(database_url=self.db_url,
                                                          environment="test"))

    async def drop_database(self) -> None:
        admin = await asyncpg.connect(self.admin_url)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{self.db_name}" WITH (FORCE)')
        finally:
            await admin.close()

    async def with_db(self, work: Callable[[asyncpg.Connection], Any]) -> Any:
        conn = await asyncpg.connect(self.db_url)
        try:
            return await work(conn)
        finally:
            await conn.close()

    async def busy_backends_since(self, since: float) -> int:
        """Backends of the bench database that ran a statement or connected since `since`."""
        admin = await asyncpg.connect(self.admin_url)
        try:
            value = await admin.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND "
                "(state_change > to_timestamp($2) OR backend_start > to_timestamp($2))",
                self.db_name, since)
        finally:
            await admin.close()
        return int(value)

    def clear_redis(self) -> None:
        client = Redis.from_url(self.redis_url)
        try:
            for key in client.scan_iter(match=f"{self.prefix}*", count=1000):
                client.delete(key)
        finally:
            client.close()

    # --- running scenarios ----------------------------------------------------------

    def run(self, row: Row, server: Served, spec: dict[str, Any],
            verify: Callable[[httpx.Client, int], None], samples: list[int],
            before_each: Callable[[], None] | None = None) -> None:
        if not self.wanted(row.key):
            del self.rows[row.key]
            return
        wrk = Wrk(self.args.connections, self.args.threads, self.args.wrk_cpu)
        with httpx.Client(base_url=server.url, timeout=10) as client:
            def verify_pass(when: str) -> None:
                for n in samples[:VERIFY_SAMPLES]:
                    try:
                        verify(client, n)
                    except Exception as exc:  # every failure is reported, none is fatal
                        row.verify_failures.append(f"{when}: {exc!s:.300}")

            if before_each:
                before_each()
            verify_pass("before")
            if self.args.warmup > 0:
                wrk.run(server.url, fresh_keys(spec), self.args.warmup)
            if before_each:
                time.sleep(DRAIN_SECONDS)  # the warm-up's last requests, then the reset
                before_each()
            profiler = self.start_profiler(row, server)
            cpu = server.cpu_seconds()
            row.result = wrk.run(server.url, fresh_keys(spec), self.args.duration)
            row.result.cpu_seconds = server.cpu_seconds() - cpu
            if profiler is not None:
                profiler.wait(timeout=30)
            if before_each:
                time.sleep(DRAIN_SECONDS)
                before_each()
            verify_pass("after")
        if row.result.sample:
            row.verify_failures.append(f"first bad response: {row.result.sample:.300}")
        log(f"{row.title}: {row.rps:,.0f} req/s, errors {row.errors}")

    def wanted(self, key: str) -> bool:
        only = {k.strip() for k in self.args.only.split(",") if k.strip()}
        return not only or key[0] in only

    def start_profiler(self, row: Row, server: Served) -> subprocess.Popen[bytes] | None:
        """--profile: py-spy samples the (first) worker during the measured run and
        writes collapsed stacks to bench-output/profile-<scenario>.txt."""
        if not self.args.profile:
            return None
        py_spy = Path(sys.executable).with_name("py-spy")
        output = ROOT / "bench-output" / f"profile-{row.key}.txt"
        return subprocess.Popen(  # noqa: S603 (argument list built here, no shell)
            [str(py_spy), "record", "--format", "raw", "--rate", "250", "--nonblocking",
             "--duration", str(self.args.duration), "--output", str(output),
             "--pid", str(server.worker_pids()[0])],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def reset_subscriptions(self) -> None:
        pool = scenarios.mutation_pool(self.ctx)

        async def work(conn: asyncpg.Connection) -> None:
            await conn.execute(
                "UPDATE subscriptions SET status = 'active' WHERE id = ANY($1::uuid[]) "
                "AND status <> 'active'",
                [uuid.UUID(scenarios.subscription_id(n)) for n in pool])

        asyncio.run(self.with_db(work))

    def probe_portal(self, server: Served) -> bool:
        with httpx.Client(base_url=server.url, timeout=10) as client:
            response = client.post("/graphql", json={"query": scenarios.PORTAL},
                                   headers=scenarios.portal_headers(self.ctx, 1))
        codes = [e.get("extensions", {}).get("code")
                 for e in response.json().get("errors", [])]
        return "GRAPHQL_VALIDATION_FAILED" not in codes

    def main(self) -> int:
        started = time.monotonic()
        self.ctx = scenarios.Context(self.size, PortalLinkSigner([SIGNING_SECRET], SystemClock()))
        out = ROOT / "bench-output"
        out.mkdir(exist_ok=True)
        log(f"database {self.db_name}: migrate and seed {self.size}")
        asyncio.run(self.create_database())
        try:
            t = time.monotonic()
            asyncio.run(self.with_db(lambda c: dataset.seed_base(c, self.size, PEPPER)))
            log(f"seeded stage 1 in {time.monotonic() - t:.1f}s")
            if self.args.instructions:
                return self.run_instructions(out)
            self.run_gateway(out)
            self.run_scale(out)
        finally:
            asyncio.run(self.drop_database())
            self.clear_redis()
        print(self.table())
        log(f"done in {time.monotonic() - started:.0f}s")
        return 1 if any(row.errors for row in self.rows.values()) else 0

    def run_instructions(self, out: Path) -> int:
        asyncio.run(self.with_db(lambda c: dataset.seed_stage2(c, self.size)))
        log(f"callgrind: {self.args.instructions} requests per scenario, "
            f"{self.args.concurrency} clients at once")
        results = instructions.measure(self.ctx, self.server_env(), self.args.instructions,
                                       self.args.concurrency, out, self.wanted)
        print(f"scenario  instructions per request (callgrind, {self.args.concurrency} clients)")
        for key, count in results.items():
            print(f"{key:<9} {count / 1000:>10,.0f}k")
        return 0

    def add(self, key: str, title: str) -> Row:
        row = self.rows[key] = Row(key, title)
        return row

    def run_gateway(self, out: Path) -> None:
        """The floor runs beside the gateway (idle when not measured) and is measured
        just before scenario 1 and just after scenario 2: the machine's load drifts,
        and ratios are only meaningful between neighbouring runs."""
        ctx = self.ctx
        server = Server("gateway", gateway_command(), self.server_env(), self.args.workers,
                        self.args.server_cpu, out / "gateway.log")
        floor = None
        try:
            if self.wanted("6"):
                env = {**self.server_env(), "REDIS_KEY_PREFIX": self.prefix + "floor"}
                floor = Server("floor", floor_command(), env, self.args.workers,
                               self.args.server_cpu, out / "floor.log")
            self.portal_available = self.probe_portal(server)
            hot = scenarios.hot(ctx)
            if self.portal_available:
                self.run(self.add("7a", "3 at stage 1"), server, scenarios.portal_spec(ctx),
                         lambda c, n: scenarios.portal_verify(ctx, c, n), hot)
            t = time.monotonic()
            asyncio.run(self.with_db(lambda c: dataset.seed_stage2(c, self.size)))
            log(f"seeded stage 2 ({self.size.payments:,} payments) in {time.monotonic() - t:.1f}s")
            merchants = ctx.merchants()
            if floor is not None:
                self.run_floor(floor, "6")
            self.run(self.add("1", "createPortalLink (GraphQL)"), server,
                     scenarios.link_graphql_spec(ctx),
                     lambda c, n: scenarios.link_graphql_verify(ctx, c, n), merchants)
            self.run(self.add("2", "REST partner route"), server, scenarios.link_rest_spec(ctx),
                     lambda c, n: scenarios.link_rest_verify(ctx, c, n), merchants)
            if floor is not None:
                self.run_floor(floor, "6b")
            if self.portal_available:
                self.run(self.add("3", "portal data query"), server, scenarios.portal_spec(ctx),
                         lambda c, n: scenarios.portal_verify(ctx, c, n), hot)
                pool = scenarios.mutation_pool(ctx)
                self.run(self.add("4", "portal pause/reactivate"), server,
                         scenarios.mutation_spec(ctx, self.args.threads),
                         lambda c, n: scenarios.mutation_verify(ctx, c, n), pool,
                         before_each=self.reset_subscriptions)
                if self.wanted("4"):
                    # The same, with one webhook endpoint subscribed per company: the
                    # request still writes one event (fan-out is the worker's).
                    self.add_endpoints(pool)
                    self.rows["4w"] = Row("4w", "portal pause/reactivate, endpoints")
                    self.run(self.rows["4w"], server,
                             scenarios.mutation_spec(ctx, self.args.threads),
                             lambda c, n: scenarios.mutation_verify(ctx, c, n), pool,
                             before_each=self.reset_subscriptions)
                    self.remove_endpoints()
                self.run_flood(server)
            self.rss["gateway"] = server.peak_rss_mb()
            if floor is not None:
                self.rss["floor"] = floor.peak_rss_mb()
        finally:
            server.stop()
            if floor is not None:
                floor.stop()
        if self.wanted("8"):
            events = 1_000 if self.args.small else 10_000
            log(f"webhook delivery: {events:,} pending events, concurrency 32")
            # On the loop `gateway worker` runs on.
            self.delivery = loop.run(webhooks.delivery(self.db_url, PEPPER, events, 32))
            log(f"webhook delivery: {self.delivery.rate:,.0f} deliveries/s")

    def add_endpoints(self, pool: list[int]) -> None:
        async def companies(conn: asyncpg.Connection) -> list[str]:
            rows = await conn.fetch(
                "SELECT DISTINCT company_id FROM subscriptions WHERE id = ANY($1::uuid[])",
                [uuid.UUID(scenarios.subscription_id(n)) for n in pool])
            return [row["company_id"] for row in rows]

        ids = asyncio.run(self.with_db(companies))
        asyncio.run(webhooks.add_endpoints(webhooks.settings_for(self.db_url, PEPPER), ids,
                                           NEVER_DELIVERED))

    def remove_endpoints(self) -> None:
        """Scenario 4w's endpoints, with their pending deliveries (ON DELETE CASCADE):
        their retries are not scenario 8's work."""
        async def remove(conn: asyncpg.Connection) -> None:
            await conn.execute("DELETE FROM webhook_endpoints WHERE url = $1", NEVER_DELIVERED)

        asyncio.run(self.with_db(remove))

    def run_scale(self, out: Path) -> None:
        """Scenarios 1 and 3 through nginx: one gateway process, then `--processes`
        of them; with `--cluster`, one process on a Redis Cluster of three primaries
        and three replicas (started here) beside one on the single Redis."""
        processes, ctx = self.args.processes, self.ctx
        if not processes and not self.args.cluster:
            return
        setups: list[tuple[str, int, bool]] = [("p1", 1, False)]
        if processes and processes > 1:
            setups.append((f"p{processes}", processes, False))
        cluster = start_cluster() if self.args.cluster else None
        if cluster is not None:
            setups.append(("c1", 1, True))
        try:
            for label, count, on_cluster in setups:
                env = self.server_env()
                if cluster is not None and on_cluster:
                    env |= {"REDIS_URL": cluster.url, "REDIS_CLUSTER": "true"}
                server = Balanced.start(label, count, env, out)
                try:
                    self.run(self.add(f"1@{label}", f"createPortalLink via nginx, {label}"), server,
                             scenarios.link_graphql_spec(ctx),
                             lambda c, n: scenarios.link_graphql_verify(ctx, c, n), ctx.merchants())
                    if self.portal_available:
                        self.run(self.add(f"3@{label}", f"portal data query via nginx, {label}"),
                                 server, scenarios.portal_spec(ctx),
                                 lambda c, n: scenarios.portal_verify(ctx, c, n), scenarios.hot(ctx))
                finally:
                    server.stop()
        finally:
            if cluster is not None:
                cluster.cleanup()

    def scale_lines(self) -> list[str]:
        """req/s of scenarios 1 and 3 per setup, as ratios to one process on one Redis."""
        lines: list[str] = []
        names = {"p1": "1 process"}
        if self.args.processes and self.args.processes > 1:
            names[f"p{self.args.processes}"] = f"{self.args.processes} processes"
        names["c1"] = "1 process, Redis Cluster"
        for key, title in (("1", "createPortalLink"), ("3", "portal data query")):
            base = self.rows.get(f"{key}@p1")
            parts = []
            for label, name in names.items():
                row = self.rows.get(f"{key}@{label}")
                if row is None or row.result is None:
                    continue
                ratio = f" ({row.rps / base.rps:.2f}x)" if base and base.rps and label != "p1" else ""
                parts.append(f"{name} {row.rps:,.0f}{ratio}, errors {row.errors}")
            if parts:
                lines.append(f"via nginx, {title}: " + "; ".join(parts))
        return lines

    def run_flood(self, server: Server) -> None:
        ctx = self.ctx
        if not self.wanted("5"):
            return
        with httpx.Client(base_url=server.url, timeout=10) as client:
            status = scenarios.flood_status(ctx, client)
        since = time.time()
        self.run(self.add("5", "invalid-signature flood"), server,
                 scenarios.flood_spec(ctx, status),
                 lambda c, n: scenarios.flood_verify(ctx, c, n), scenarios.hot(ctx))
        # pg_stat_activity is live (pg_stat_database's counters arrive seconds late):
        # a backend that ran any statement, or connected, during the flood shows it.
        self.flood_statements = asyncio.run(self.busy_backends_since(since))

    def run_floor(self, server: Server, key: str) -> None:
        ctx = self.ctx
        self.run(self.add(key, "reference floor (Starlette + asyncpg)"), server,
                 scenarios.link_rest_spec(ctx),
                 lambda c, n: scenarios.link_rest_verify(ctx, c, n), ctx.merchants())

    # --- the table -------------------------------------------------------------------

    def ratio(self, a: str, b: str) -> float | None:
        ra, rb = self.rows.get(a), self.rows.get(b)
        if ra is None or rb is None or not ra.rps or not rb.rps:
            return None
        return ra.rps / rb.rps

    def cpu_ratio(self, a: str, b: str) -> float | None:
        """The throughput ratio a/b that server CPU per request predicts."""
        ra, rb = self.rows.get(a), self.rows.get(b)
        if ra is None or rb is None or ra.result is None or rb.result is None:
            return None
        if not ra.result.cpu_us:
            return None
        return rb.result.cpu_us / ra.result.cpu_us

    def merge_floor(self) -> None:
        """Row 6 is the mean of the floor's two runs (before 1, after 2)."""
        first, second = self.rows.get("6"), self.rows.pop("6b", None)
        if first is None or second is None or first.result is None or second.result is None:
            return
        a, b = first.result, second.result
        first.result = WrkResult(
            requests=a.requests + b.requests, seconds=a.seconds + b.seconds,
            socket_errors=a.socket_errors + b.socket_errors, non_2xx=a.non_2xx + b.non_2xx,
            bad=a.bad + b.bad, p50_ms=(a.p50_ms + b.p50_ms) / 2, p90_ms=(a.p90_ms + b.p90_ms) / 2,
            p99_ms=(a.p99_ms + b.p99_ms) / 2, sample=a.sample or b.sample,
            cpu_seconds=a.cpu_seconds + b.cpu_seconds)
        first.verify_failures += second.verify_failures
        first.note = f"runs of {a.rps:,.0f} and {b.rps:,.0f} req/s"

    def table(self) -> str:
        self.merge_floor()
        size = self.size
        floor = self.ratio
        notes = {
            "1": (floor("1", "6"), "x floor"),
            "2": (floor("2", "6"), "x floor"),
            "3": (floor("3", "1"), "x scenario 1"),
            "5": (floor("5", "1"), "x scenario 1"),
        }
        lines = [
            f"MakePay gateway benchmark: {size.companies:,} companies, {size.customers:,} "
            f"customers, {size.payments:,} payments, {size.subscriptions:,} subscriptions",
            f"uvicorn (uvloop, httptools, no access log), {self.args.workers} worker(s); wrk "
            f"{self.args.threads} threads, {self.args.connections} connections, "
            f"{self.args.duration}s per scenario after {self.args.warmup}s warm-up"
            + (f"; server on CPU {self.args.server_cpu}, wrk on CPU {self.args.wrk_cpu}"
               if self.args.server_cpu else ""),
            "",
            f"{'scenario':<44}{'req/s':>9}{'p50 ms':>9}{'p90 ms':>9}{'p99 ms':>9}"
            f"{'errors':>8}{'CPU us/req':>12}  ratio by req/s (by CPU per request)",
            "-" * 120,
        ]
        order = ["1", "2", "3", "4", "4w", "5", "6"]
        notes["4w"] = (floor("4w", "4"), "x scenario 4")
        for key in order:
            row = self.rows.get(key)
            title = {"1": "1 createPortalLink (GraphQL, API key)", "2": "2 REST partner route",
                     "3": f"3 portal data query ({size.payments:,} payments)",
                     "4": "4 portal pause/reactivate (idempotent)",
                     "4w": "4w the same, one webhook endpoint each",
                     "5": "5 invalid-signature flood",
                     "6": "6 reference floor (Starlette + asyncpg)"}[key]
            if row is None or row.result is None:
                why = ("not run" if not self.wanted(key) or self.portal_available
                       else "n/a (portal API not on this branch)")
                lines.append(f"{title:<44}{why:>45}")
                continue
            r = row.result
            ratio = ""
            if key in notes and notes[key][0] is not None:
                base = notes[key][1]
                by_cpu = self.cpu_ratio(key, "6" if "floor" in base else
                                        "4" if "scenario 4" in base else "1")
                ratio = f"{notes[key][0]:.2f}{base}" + (f" ({by_cpu:.2f}x)" if by_cpu else "")
            if key == "5" and self.flood_statements is not None:
                used = ("0 DB statements" if self.flood_statements == 0 else
                        f"DB used by {self.flood_statements} backends")
                ratio = f"{ratio}; {used}" if ratio else used
            if row.note:
                ratio = f"{ratio}; {row.note}" if ratio else row.note
            lines.append(f"{title:<44}{r.rps:>9,.0f}{r.p50_ms:>9.2f}{r.p90_ms:>9.2f}"
                         f"{r.p99_ms:>9.2f}{row.errors:>8}{r.cpu_us:>12,.0f}  {ratio}")
        stage1 = self.rows.get("7a")
        if stage1 is not None and stage1.result is not None and "3" in self.rows:
            r = stage1.result
            scale = self.ratio("7a", "3")
            lines.append(
                f"{'7 scenario 3 at ' + format(size.stage1_payments, ',') + ' payments':<44}"
                f"{r.rps:>9,.0f}{r.p50_ms:>9.2f}{r.p90_ms:>9.2f}{r.p99_ms:>9.2f}"
                f"{stage1.errors:>8}{r.cpu_us:>12,.0f}  {scale:.2f}x "
                f"({self.cpu_ratio('7a', '3') or 0:.2f}x): {format(size.stage1_payments, ',')} "
                f"vs {size.payments:,} payments")
        else:
            why = ("not run" if not self.wanted("7") or self.portal_available
                   else "n/a (portal API not on this branch)")
            lines.append(f"{'7 scaling of scenario 3':<44}{why:>45}")
        if self.delivery is not None:
            d = self.delivery
            lines.append(f"{'8 webhook delivery (one worker, local receiver)':<44}"
                         f"{d.rate:>9,.0f}  deliveries/s: {d.delivered:,} of {d.events:,} "
                         f"events in {d.seconds:.1f}s, concurrency {d.concurrency}, "
                         f"{d.cpu_us:,.0f} us worker CPU each, receiver counted {d.received:,}")
        elif self.wanted("8"):
            lines.append(f"{'8 webhook delivery':<44}{'not run':>45}")
        lines.append("-" * 120)
        lines += self.scale_lines()
        for name, values in self.rss.items():
            lines.append(f"peak RSS per worker, {name}: "
                         + ", ".join(f"{v:.0f} MB" for v in values))
        failures = [(row.title, f) for row in self.rows.values() for f in row.verify_failures]
        total = sum(row.errors for row in self.rows.values())
        if self.delivery is not None:
            total += self.delivery.events - min(self.delivery.delivered, self.delivery.received)
        lines.append(f"errors: {total}" + ("" if not failures else " -- see below"))
        for title, failure in failures[:10]:
            lines.append(f"  {title}: {failure}")
        return "\n".join(lines)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="scripts/bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--small", action="store_true",
                        help="100 companies, 10,000 customers, 100,000 payments; 3 s runs")
    parser.add_argument("--duration", type=int, help="seconds per measured run (10; 3 with --small)")
    parser.add_argument("--warmup", type=int, default=None, help="seconds of warm-up per scenario")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--profile", action="store_true",
                        help="sample the server with py-spy during each measured run")
    parser.add_argument("--only", default="", help="comma-separated scenarios to run, e.g. 1,2,6")
    parser.add_argument("--no-pin", action="store_true", help="do not pin server and wrk to CPUs")
    parser.add_argument("--processes", type=int, default=0,
                        help="also run scenarios 1 and 3 through nginx with 1 and N gateway processes")
    parser.add_argument("--instructions", type=int, default=0, metavar="REQUESTS",
                        help="instead of wrk: instructions per request of scenarios 1-5 "
                             "under callgrind, over REQUESTS requests each")
    parser.add_argument("--concurrency", type=int, default=8,
                        help="clients at once for --instructions")
    parser.add_argument("--cluster", action="store_true",
                        help="also run scenarios 1 and 3 on a local Redis Cluster (3 primaries, "
                             "3 replicas) beside single Redis, through nginx")
    args = parser.parse_args(argv)
    if args.duration is None:
        args.duration = 3 if args.small else 10
    if args.warmup is None:
        args.warmup = 1 if args.small else 2
    pin = not args.no_pin and (os.cpu_count() or 1) >= 2 and args.workers == 1
    args.server_cpu = "0" if pin else None
    args.wrk_cpu = "1" if pin else None
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    admin_url = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    redis_url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    bench = Bench(args, Size.small() if args.small else Size.full(), admin_url, redis_url)
    return bench.main()


if __name__ == "__main__":
    sys.exit(main())
