"""The routing scenario of the intake benchmark (`python -m bench.intake --route N`, see bench/intake.py): department
notifications submitted through the API become triage cases through the intake router, run in a process of its own
as the worker runs it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from typing import Any

import asyncpg

from backend.config import PROJECT_ROOT, Settings
from backend.core.context import actor_var
from backend.db.engine import Database
from backend.intake.case_type import TRIAGE_CASE_TYPE
from backend.intake.opening import ROUTER_ACTOR
from backend.intake.routing import IntakeRouter, RouterSettings
from bench.intake import BATCH, KeepAliveConnection, driver_dsn, log, notification, post_request, run_concurrently

ROUTER_FLAG = "--serve-router"
TARGET_ROUTED_PER_S = 500.0
ROUTING_LIMIT_SECONDS = 600.0
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process has spent (`/proc/<pid>/stat`, fields 14 and 15)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def serve_router() -> int:
    """The router process: `IntakeRouter.run` until SIGTERM, as the worker runs it (settings from the environment)."""

    async def run() -> None:
        actor_var.set(ROUTER_ACTOR)
        database = Database.from_settings(Settings())
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        router = IntakeRouter(database, RouterSettings())
        print("ready", flush=True)
        try:
            await router.run(stop)
        finally:
            await database.dispose()

    asyncio.run(run())
    return 0


def start_router(env: dict[str, str]) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.intake", ROUTER_FLAG],
        env=env,
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    if process.stdout.readline().strip() != "ready":
        raise RuntimeError("the router process did not start")
    return process


def stop_router(process: subprocess.Popen[str]) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@dataclass
class RoutingRun:
    notifications: int
    seconds: float
    router_cpu_seconds: float
    load: tuple[float, float]
    checks: dict[str, int]


async def _connect(app_url: str) -> asyncpg.Connection:
    dsn, host = driver_dsn(app_url)
    return await asyncpg.connect(dsn=dsn, host=host)


async def _left_to_route(connection: asyncpg.Connection) -> int:
    async with connection.transaction():
        await connection.execute("SELECT set_config('app.platform', 'on', true)")
        return int(await connection.fetchval("SELECT count(*) FROM intake_notifications WHERE status = 'received'"))


CHECKS = {
    "notifications": "SELECT count(*) FROM intake_notifications",
    "case_opened": "SELECT count(*) FROM intake_notifications WHERE status = 'case_opened'",
    "held": "SELECT count(*) FROM intake_notifications WHERE status = 'held'",
    "distinct case ids": "SELECT count(DISTINCT case_id) FROM intake_notifications",
}
TENANT_CHECKS = {
    "triage copies": "SELECT count(*) FROM intake_triages",
    "distinct notifications copied": "SELECT count(DISTINCT notification_id) FROM intake_triages",
    "triage cases": f"SELECT count(*) FROM cases WHERE case_type = '{TRIAGE_CASE_TYPE}'",
    "cases without exactly one start": (
        "SELECT count(*) FROM cases c WHERE (SELECT count(*) FROM outbox_messages o WHERE o.kind = 'case.start' "
        "AND o.payload->>'case_id' = c.id::text) <> 1"
    ),
}


async def _checks(connection: asyncpg.Connection) -> dict[str, int]:
    found: dict[str, int] = {}
    async with connection.transaction():
        await connection.execute("SELECT set_config('app.platform', 'on', true)")
        for name, query in CHECKS.items():
            found[name] = int(await connection.fetchval(query))
        tenants = [row[0] for row in await connection.fetch("SELECT id FROM tenants")]
    for name in TENANT_CHECKS:
        found[name] = 0
    for tenant_id in tenants:
        async with connection.transaction():
            await connection.execute("SELECT set_config('app.tenant_id', $1, true)", str(tenant_id))
            for name, query in TENANT_CHECKS.items():
                found[name] += int(await connection.fetchval(query))
    return found


async def measure_routing(
    port: int, token: str, app_url: str, router: subprocess.Popen[str], count: int, concurrency: int
) -> RoutingRun:
    run = uuid.uuid4().hex[:8]
    size = min(BATCH, count)
    batches = max(1, count // size)
    requests = [
        post_request(
            "/api/v1/notifications:batch",
            token,
            {"notifications": [notification(f"R{run}", index * size + item) for item in range(size)]},
        )
        for index in range(batches)
    ]
    watcher = await _connect(app_url)
    connections = [await KeepAliveConnection.open("127.0.0.1", port) for _ in range(concurrency)]
    try:

        async def post_batch(index: int, connection: KeepAliveConnection) -> None:
            status, body = await connection.send(requests[index])
            if status != 202 or len(json.loads(body)["accepted"]) != size:
                raise RuntimeError(f"batch: HTTP {status} {body[:300]!r}")

        load_before = os.getloadavg()[0]
        cpu_before = process_cpu_seconds(router.pid)
        started = time.perf_counter()
        await run_concurrently(batches, concurrency, post_batch, connections)
        deadline = time.monotonic() + max(ROUTING_LIMIT_SECONDS, count / 10)  # bounded even at 10/s
        while (left := await _left_to_route(watcher)) > 0:
            if router.poll() is not None:
                raise RuntimeError("the router process exited")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{left} notifications still not routed; giving up")
            await asyncio.sleep(0.1)
        seconds = time.perf_counter() - started
        cpu = process_cpu_seconds(router.pid) - cpu_before
        load_after = os.getloadavg()[0]
        checks = await _checks(watcher)
    finally:
        for connection in connections:
            connection.close()
        with contextlib.suppress(Exception):
            await watcher.close()
    return RoutingRun(batches * size, seconds, cpu, (load_before, load_after), checks)


def exactly_once(result: RoutingRun) -> bool:
    checks = result.checks
    routed = checks["case_opened"]
    return (
        checks["notifications"] == result.notifications
        and routed + checks["held"] == result.notifications
        and checks["distinct case ids"] == routed
        and checks["triage copies"] == routed
        and checks["distinct notifications copied"] == routed
        and checks["triage cases"] == routed
        and checks["cases without exactly one start"] == 0
    )


def print_routing(result: RoutingRun) -> None:
    rate = result.notifications / result.seconds
    print()
    print(
        f"Routed {result.notifications:,} notifications (submitted in batches of {BATCH:,}) in {result.seconds:.1f} s"
    )
    print(f"  notifications routed/s (first submit -> none left received): {rate:,.0f}")
    print(f"  wall ms per notification: {result.seconds * 1000 / result.notifications:.2f}")
    print(f"  router process CPU ms per notification: {result.router_cpu_seconds * 1000 / result.notifications:.2f}")
    print("  checks: " + ", ".join(f"{name} {value:,}" for name, value in result.checks.items()))
    print(f"Exactly once: {'yes' if exactly_once(result) else 'NO'}")
    met = rate >= TARGET_ROUTED_PER_S
    print(f"Target: >= {TARGET_ROUTED_PER_S:,.0f} notifications routed/s: {'met' if met else 'NOT met'}")
    print(
        f"Machine: {os.cpu_count()} CPUs, load average (1 min) {result.load[0]:.1f} before and {result.load[1]:.1f} "
        f"after; the API, the router, PostgreSQL and this load generator share the machine"
    )


def routing_scenario(port: int, token: str, app_url: str, env: dict[str, Any], count: int, concurrency: int) -> int:
    router = start_router(env)
    try:
        log(f"Routing {count:,} notifications submitted in batches of {BATCH:,} ({concurrency} in flight) ...")
        result = asyncio.run(measure_routing(port, token, app_url, router, count, concurrency))
    finally:
        stop_router(router)
    print_routing(result)
    return 0 if exactly_once(result) else 1
