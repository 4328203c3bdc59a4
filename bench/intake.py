"""Department intake throughput: notifications accepted durably through the API under uvicorn, beside the
raw PostgreSQL insert rate of the same rows, measured in the same run.

`python -m bench.intake [--quick] [--batches N] [--singles N] [--concurrency N] [--workers N]`
(`make bench-intake`), or the routing scenario `python -m bench.intake --route N`:

1. starts the embedded PostgreSQL under var/bench-pgdata, recreates the database `liuguan_bench_intake` and
   migrates it with the CLI as the schema owner;
2. provisions one county and an instance-wide police client through the services, and gets a token;
3. starts the app under uvicorn (`--workers` processes, default one per CPU as in production; no access
   log) on a free port and sends, over real HTTP on keep-alive connections: `--batches` batches of 1,000
   residence notifications (`--concurrency` in flight), then `--singles` single posts at 8 and again at 16
   in flight. Each 202 means the rows are committed. The load generator is a few lines over asyncio
   streams with the request bytes encoded before the clock starts: it shares the machine, and an HTTP
   client library costs as much CPU per request as the endpoint does;
4. as the baseline, inserts the same kind of rows (payload validated, encrypted and digested beforehand,
   outside the timing) straight into `intake_notifications` as the application role with asyncpg, 1,000
   rows per transaction, the same concurrency;
5. prints notifications/s for batches and singles, p50/p99 latency, the raw insert rate and the ratios, the
   machine's CPU count and load average. Targets on 2 cores: >= 5,000/s through batches, >= 500/s through
   single posts with p99 <= 50 ms.

Routing (the worker) is not running in these: it happens after commit and is not part of accepting a
notification. `--route N` measures it instead: the intake router runs in a process of its own as the worker
runs it (`IntakeRouter.run`, woken by LISTEN/NOTIFY), N notifications (default 10,000) are submitted through the
API in batches of 1,000 (`--concurrency` in flight), and the clock runs from the first submit until none is
left `received` (each is `case_opened`, or `held`). It prints notifications routed/s, wall ms and router CPU ms
per notification (`/proc/<pid>/stat` of the router process, user + system), the load average, and checks
exactly once: as many triage copies and triage cases as notifications, no notification twice, every case with
one `case.start` outbox message.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx

from backend.clients import service as clients
from backend.clients.schemas import ApiClientCreate, Department
from backend.config import PROJECT_ROOT, Environment, Settings
from backend.core.clock import utc_now
from backend.core.context import SYSTEM_ACTOR, actor_var
from backend.core.crypto import personal_data_cipher
from backend.db.engine import Database
from backend.db.tenancy import set_platform_context
from backend.devservices import postgres
from backend.intake.schemas import NOTIFICATION_ADAPTER
from backend.intake.submit import PAYLOAD_CONTEXT
from backend.persons.resident_id import check_character
from backend.tenants.schemas import TenantCreate
from backend.tenants.service import provision_tenant
from bench import wait_for_api

PGDATA = PROJECT_ROOT / "var" / "bench-pgdata"
DATABASE_NAME = "liuguan_bench_intake"
COUNTY = "330106"
BATCH = 1000
# Single posts are measured at two concurrencies: a department system with a few senders, and twice as many.
SINGLE_CONCURRENCIES = (8, 16)
TARGET_BATCH_PER_S, TARGET_SINGLE_PER_S, TARGET_SINGLE_P99_MS = 5000.0, 500.0, 50.0


def log(message: str) -> None:
    print(message, flush=True)


def percentile(values: list[float], percent: int) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[percent - 1]


def resident_ids(count: int) -> list[str]:
    numbers = []
    for serial in range(count):
        first = f"330106{1970 + serial % 30:04d}{1 + serial // 30 % 12:02d}{1 + serial // 360 % 28:02d}"
        first += f"{(serial // 10080) % 1000:03d}"
        numbers.append(first + check_character(first))
    return numbers


_IDS = resident_ids(20_000)


def notification(run: str, serial: int) -> dict[str, Any]:
    return {
        "transaction_id": f"{run}-{serial:08d}",
        "type": "residence_registered",
        "schema_version": 1,
        "source_record_id": f"ZZDJ{serial:012d}",
        "issuing_office": "杭州市公安局西湖分局西溪派出所",
        "address": "浙江省杭州市西湖区西溪街道某某路1号",
        "person": {"resident_id": _IDS[serial % len(_IDS)], "name": "王芳"},
        "residence_division_code": f"{COUNTY}001001",
        "registered_on": "2026-11-01",
    }


@dataclass
class Result:
    name: str
    notifications: int
    seconds: float
    latencies_ms: list[float]

    @property
    def rate(self) -> float:
        return self.notifications / self.seconds


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def setup(settings: Settings) -> tuple[str, str]:
    """A county and an instance-wide police client; returns (client id, secret)."""
    actor_var.set(SYSTEM_ACTOR)
    database = Database.from_settings(settings)
    try:
        async with database.sessionmaker() as session, session.begin():
            await provision_tenant(session, TenantCreate(code=COUNTY, name="西湖区"))
        async with database.sessionmaker() as session, session.begin():
            await set_platform_context(session)
            client, secret = await clients.create_client(
                session,
                ApiClientCreate(
                    name="bench police",
                    department=Department.police,
                    scopes=["intake:police"],
                ),
                tenant_code=None,
            )
            return client.client_id, secret
    finally:
        await database.dispose()


async def run_concurrently(
    count: int, concurrency: int, action: Any, connections: list[Any] | None = None
) -> tuple[float, list[float]]:
    """`count` calls of action(index[, connection]) with `concurrency` in flight; returns (seconds, latencies)."""
    latencies: list[float] = []
    next_index = 0

    async def worker(slot: int) -> None:
        nonlocal next_index
        while next_index < count:
            index = next_index
            next_index += 1
            started = time.perf_counter()
            if connections is None:
                await action(index)
            else:
                await action(index, connections[slot])
            latencies.append((time.perf_counter() - started) * 1000)

    started = time.perf_counter()
    await asyncio.gather(*(worker(slot) for slot in range(concurrency)))
    return time.perf_counter() - started, latencies


class KeepAliveConnection:
    """A minimal HTTP/1.1 keep-alive client over one socket, for the load generator only.

    The generator shares the 2 cores with the API and PostgreSQL; httpx spends about as much CPU per request
    as a lean endpoint does, which would measure the client. Requests here are pre-encoded bytes and the
    reader only parses the status line, the headers and a Content-Length body (what uvicorn sends).
    """

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, host: str, port: int) -> KeepAliveConnection:
        reader, writer = await asyncio.open_connection(host, port)
        return cls(reader, writer)

    async def send(self, request: bytes) -> tuple[int, bytes]:
        self.writer.write(request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        status = int(lines[0].split(b" ", 2)[1])
        length = next(
            (int(line.split(b":", 1)[1]) for line in lines[1:] if line.lower().startswith(b"content-length:")), None
        )
        if length is None:
            raise RuntimeError(f"response without Content-Length: {head[:200]!r}")
        return status, await self.reader.readexactly(length)

    def close(self) -> None:
        self.writer.close()


def post_request(path: str, token: str, body: Any) -> bytes:
    payload = json.dumps(body, ensure_ascii=False).encode()
    head = (
        f"POST {path} HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer {token}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n"
    )
    return head.encode() + payload


async def measure_api(port: int, token: str, batches: int, singles: int, concurrency: int) -> list[Result]:
    run = uuid.uuid4().hex[:8]
    # Bodies are encoded before the clock starts: the generator's JSON work is not the API's.
    batch_requests = [
        post_request(
            "/api/v1/notifications:batch",
            token,
            {"notifications": [notification(f"B{run}", index * BATCH + item) for item in range(BATCH)]},
        )
        for index in range(batches)
    ]
    single_requests = [
        post_request("/api/v1/notifications", token, notification(f"S{run}", i))
        for i in range(singles * len(SINGLE_CONCURRENCIES))
    ]
    # uvicorn closes a keep-alive connection idle for 5 s: each phase opens and warms its own connections.
    batch_connections = [await KeepAliveConnection.open("127.0.0.1", port) for _ in range(concurrency)]
    try:
        for warm, connection in enumerate(batch_connections):  # connections, pooled sessions, statements
            body = {"notifications": [notification(f"W{run}{warm}", item) for item in range(100)]}
            await connection.send(post_request("/api/v1/notifications:batch", token, body))

        async def post_batch(index: int, connection: KeepAliveConnection) -> None:
            status, body = await connection.send(batch_requests[index])
            if status != 202 or len(json.loads(body)["accepted"]) != BATCH:
                raise RuntimeError(f"batch: HTTP {status} {body[:300]!r}")

        seconds, latencies = await run_concurrently(batches, concurrency, post_batch, batch_connections)
        batch_result = Result("API batches of 1,000", batches * BATCH, seconds, latencies)
    finally:
        for connection in batch_connections:
            connection.close()

    results = [batch_result]
    offset = 0
    for in_flight in SINGLE_CONCURRENCIES:
        connections = [await KeepAliveConnection.open("127.0.0.1", port) for _ in range(in_flight)]
        try:
            for warm, connection in enumerate(connections):
                await connection.send(
                    post_request("/api/v1/notifications", token, notification(f"X{run}-{in_flight}", warm))
                )
            start = offset

            async def post_single(index: int, connection: KeepAliveConnection, start: int = start) -> None:
                status, body = await connection.send(single_requests[start + index])
                if status != 202:
                    raise RuntimeError(f"single: HTTP {status} {body[:300]!r}")

            seconds, latencies = await run_concurrently(singles, in_flight, post_single, connections)
            results.append(Result(f"API single posts ({in_flight} in flight)", singles, seconds, latencies))
            offset += singles
        finally:
            for connection in connections:
                connection.close()
    return results


def raw_rows(run: str, count: int, client_id: str) -> list[tuple[Any, ...]]:
    """The rows the service would insert, built outside the timing (validation, encryption, digest)."""
    cipher = personal_data_cipher()
    now = utc_now()
    rows = []
    for serial in range(count):
        model = NOTIFICATION_ADAPTER.validate_python(notification(run, serial))
        canonical = model.model_dump_json()
        rows.append(
            (
                uuid.uuid4(),
                client_id,
                "police",
                "residence_registered",
                1,
                model.transaction_id,
                None,
                cipher.encrypt(canonical, context=PAYLOAD_CONTEXT),
                cipher.lookup_hash(canonical, context=PAYLOAD_CONTEXT),
                model.routing_division_code(),
                COUNTY,
                "received",
                now,
                now,
                0,
            )
        )
    return rows


INSERT = (
    "INSERT INTO intake_notifications (id, client_id, department, notification_type, schema_version, "
    "transaction_id, idempotency_key, payload_encrypted, payload_digest, division_code, county_code, status, "
    "received_at, available_at, route_attempts) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, "
    "$14, $15) ON CONFLICT (client_id, transaction_id) DO NOTHING"
)


def driver_dsn(app_url: str) -> tuple[str, str]:
    """(dsn, socket directory) for asyncpg from the application's SQLAlchemy URL."""
    dsn = app_url.replace("postgresql+asyncpg://", "postgresql://")
    user_host, _, rest = dsn.partition("@/")
    database, _, query = rest.partition("?host=")
    return f"{user_host}@/{database}", query


async def measure_raw(app_url: str, client_id: str, batches: int, concurrency: int) -> Result:
    dsn, host = driver_dsn(app_url)
    pool = await asyncpg.create_pool(dsn=dsn, host=host, min_size=concurrency, max_size=concurrency)
    try:
        chunks = [raw_rows(f"R{uuid.uuid4().hex[:8]}-{index}", BATCH, client_id) for index in range(batches)]

        async def insert(index: int) -> None:
            async with pool.acquire() as connection, connection.transaction():
                await connection.execute("SELECT set_config('app.platform', 'on', true)")
                await connection.executemany(INSERT, chunks[index])

        seconds, latencies = await run_concurrently(batches, concurrency, insert)
    finally:
        await pool.close()
    return Result("raw INSERT (asyncpg, 1,000 rows/transaction)", batches * BATCH, seconds, latencies)


async def token_for(base_url: str, client_id: str, secret: str) -> str:
    async with httpx.AsyncClient(base_url=base_url) as client:
        response = await client.post(
            "/api/v1/oauth/token", data={"grant_type": "client_credentials"}, auth=(client_id, secret)
        )
        response.raise_for_status()
        return str(response.json()["access_token"])


def print_results(results: list[Result], raw: Result, load: tuple[float, float]) -> None:
    print()
    print(f"{'':46} {'notif/s':>10} {'p50 ms':>9} {'p99 ms':>9} {'vs raw':>8}")
    for result in [*results, raw]:
        print(
            f"{result.name:46} {result.rate:10,.0f} {percentile(result.latencies_ms, 50):9.1f} "
            f"{percentile(result.latencies_ms, 99):9.1f} {result.rate / raw.rate:8.2f}"
        )
    batch, *singles = results
    print()
    print(f"Ratio API batches / raw inserts: {batch.rate / raw.rate:.2f}")
    print(f"Target: batches >= {TARGET_BATCH_PER_S:,.0f}/s: {'met' if batch.rate >= TARGET_BATCH_PER_S else 'NOT met'}")
    for single in singles:
        p99 = percentile(single.latencies_ms, 99)
        met = single.rate >= TARGET_SINGLE_PER_S and p99 <= TARGET_SINGLE_P99_MS
        print(
            f"Target: {single.name} >= {TARGET_SINGLE_PER_S:,.0f}/s with p99 <= {TARGET_SINGLE_P99_MS:.0f} ms: "
            f"{'met' if met else 'NOT met'} ({single.rate:,.0f}/s, p99 {p99:.1f} ms)"
        )
    print(
        f"Machine: {os.cpu_count()} CPUs, load average (1 min) {load[0]:.1f} before and {load[1]:.1f} after; "
        f"Python {platform.python_version()}; API, PostgreSQL and this load generator share the machine"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.intake", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="10 batches and 1,000 singles")
    parser.add_argument("--batches", type=int, default=None)
    parser.add_argument("--singles", type=int, default=None)
    parser.add_argument("--concurrency", type=int, default=2, help="batches in flight")
    parser.add_argument(
        "--workers", type=int, default=os.cpu_count() or 1, help="uvicorn worker processes (default: one per CPU)"
    )
    parser.add_argument(
        "--route",
        type=int,
        nargs="?",
        const=10_000,
        default=None,
        metavar="N",
        help="the routing scenario instead: N notifications (default 10,000) through the API and the router",
    )
    arguments = sys.argv[1:] if argv is None else argv
    if arguments == ["--serve-router"]:  # the routing scenario's router process
        from bench.intake_routing import serve_router

        return serve_router()
    options = parser.parse_args(arguments)
    batches = options.batches or (10 if options.quick else 30)
    singles = options.singles or (1000 if options.quick else 5000)

    server = postgres.start_server(PGDATA)
    urls = postgres.bootstrap(server, DATABASE_NAME, recreate=True)
    env = {
        **os.environ,
        "ENVIRONMENT": "development",
        "DATABASE_URL": urls.app,
        "DATABASE_OWNER_URL": urls.owner,
        "LOG_LEVEL": "WARNING",
        "INTAKE_RATE_PER_SECOND": "100000",
        "INTAKE_RATE_BURST": "100000",
    }
    subprocess.run(
        [sys.executable, "-m", "backend.cli", "db", "upgrade"], env=env, cwd=PROJECT_ROOT, check=True, timeout=300
    )
    settings = Settings(
        environment=Environment.development, database_url=urls.app, database_owner_url=urls.owner, log_level="WARNING"
    )
    client_id, secret = asyncio.run(setup(settings))
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    api = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "backend.main:create_app",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(options.workers),
            "--no-access-log",
            "--log-level",
            "warning",
        ],
        env=env,
        cwd=PROJECT_ROOT,
    )
    try:
        wait_for_api(base_url, api)
        token = asyncio.run(token_for(base_url, client_id, secret))
        if options.route is not None:
            from bench.intake_routing import routing_scenario

            return routing_scenario(port, token, urls.app, env, options.route, options.concurrency)
        log(f"Sending {batches} batches of {BATCH} ({options.concurrency} in flight) and {singles} single posts ...")
        load_before = os.getloadavg()[0]
        results = asyncio.run(measure_api(port, token, batches, singles, options.concurrency))
        log("Inserting the same rows straight into PostgreSQL ...")
        raw = asyncio.run(measure_raw(urls.app, client_id, batches, options.concurrency))
        load_after = os.getloadavg()[0]
    finally:
        api.terminate()
        api.wait(timeout=30)
    print_results(results, raw, (load_before, load_after))
    return 0


if __name__ == "__main__":
    sys.exit(main())
