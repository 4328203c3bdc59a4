"""Where POST /api/v1/cases spends its round trips and CPU (issue #20's profile-first step).

`python -m bench.case_path [--requests N]` (`make bench-case-path`):

1. starts the embedded PostgreSQL under var/bench-pgdata, recreates `liuguan_bench_case_path` and migrates it;
   provisions one county and a township officer (as bench/workflows.py does; no Temporal: the outbox rows are
   only written);
2. signs in and opens N cases through POST /api/v1/cases (create_app in this process, httpx ASGI transport),
   one at a time, counting the SQL statements each request sends (SQLAlchemy's cursor events plus the
   statements sent on the sessions' driver connections directly, the pool's pre-ping `;` included) and the CPU
   this process spends per request (`/proc/self/stat`, user + system), against GET /healthz through the same
   client (the client's and the framework's share);
3. prints statements per request, each distinct statement with its count per request, and CPU ms per request.

`BENCH_PROFILE=file` also writes a cProfile of the measured requests to `file` (for `python -m pstats`).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import re
import subprocess
import sys
import time
from collections import Counter
from typing import Any

import httpx
from sqlalchemy import event

from backend.config import PROJECT_ROOT, Environment, Settings
from backend.db.engine import Database
from backend.devservices import postgres
from backend.main import create_app
from bench.cases import sign_in
from bench.cases_data import Sizes, create_officer, provision_counties

PGDATA = PROJECT_ROOT / "var" / "bench-pgdata"
DATABASE_NAME = "liuguan_bench_case_path"
DEFAULT_REQUESTS = 300
DEFAULT_CASE_TYPE = "inflow_registration"
TICKS = os.sysconf("SC_CLK_TCK")
TRANSACTION_CONTROL = frozenset({"BEGIN;", "COMMIT;", "ROLLBACK;", "BEGIN", "COMMIT", "ROLLBACK"})


def cpu_seconds() -> float:
    """This process's user + system CPU time from /proc (as ADR 0009 measured the intake path)."""
    fields = open("/proc/self/stat").read().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def shape(statement: str) -> str:
    text = re.sub(r"\s+", " ", statement).strip()
    return text[:110]


async def run(settings: Settings, requests: int, case_type: str) -> int:
    setup = Database.from_settings(settings)
    try:
        (county,) = await provision_counties(
            setup, Sizes(tenants=1, cases_per_tenant=0, persons_per_tenant=0, townships=1)
        )
        officer = await create_officer(setup, county)
    finally:
        await setup.dispose()
    app = create_app(settings)
    statements: Counter[str] = Counter()

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements[shape(statement)] += 1

    def count_driver(record: Any) -> None:
        # Statements sent on a session's driver connection directly (the case opening's hand-written SQL); the
        # transaction's BEGIN and COMMIT are not counted on either side.
        if record.query not in TRANSACTION_CONTROL:
            statements[shape(record.query)] += 1

    def log_driver(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.driver_connection.add_query_logger(count_driver)

    async with app.router.lifespan_context(app):
        database: Database = app.state.database
        event.listen(database.engine.sync_engine, "before_cursor_execute", count)
        event.listen(database.engine.sync_engine, "connect", log_driver)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver", timeout=60) as client:
            await sign_in(client, county, officer)
            body = {"case_type": case_type, "org_unit_code": county.villages[0]}
            for _ in range(20):  # warm-up
                (await client.post("/api/v1/cases", json=body)).raise_for_status()
                (await client.get("/healthz")).raise_for_status()
            statements.clear()
            began_cpu, began = cpu_seconds(), time.perf_counter()
            profiler = cProfile.Profile() if os.environ.get("BENCH_PROFILE") else None
            if profiler:
                profiler.enable()
            for _ in range(requests):
                response = await client.post("/api/v1/cases", json=body)
                if response.status_code != 201:
                    raise RuntimeError(f"HTTP {response.status_code}: {response.text[:300]}")
            post_cpu, post_wall = cpu_seconds() - began_cpu, time.perf_counter() - began
            if profiler:
                profiler.disable()
                profiler.dump_stats(os.environ["BENCH_PROFILE"])
            counted = Counter(statements)
            began_cpu = cpu_seconds()
            for _ in range(requests):
                (await client.get("/healthz")).raise_for_status()
            live_cpu = cpu_seconds() - began_cpu
    total = sum(counted.values())
    print()
    print(
        f"POST /api/v1/cases ({case_type}), {requests} requests one at a time; "
        f"load average (1 min) {os.getloadavg()[0]:.1f}"
    )
    print(f"statements per request: {total / requests:.1f}")
    for text, seen in counted.most_common():
        print(f"  {seen / requests:5.2f}  {text}")
    print(
        f"CPU per request (this process): {post_cpu / requests * 1000:.2f} ms; "
        f"wall {post_wall / requests * 1000:.2f} ms"
    )
    print(f"CPU per GET /healthz (client + framework): {live_cpu / requests * 1000:.2f} ms")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.case_path", description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=DEFAULT_REQUESTS, help=f"default {DEFAULT_REQUESTS}")
    parser.add_argument(
        "--case-type",
        default=DEFAULT_CASE_TYPE,
        help=f"default {DEFAULT_CASE_TYPE} (no working-day rule); first_child_registration counts working days",
    )
    args = parser.parse_args(argv)
    server = postgres.start_server(PGDATA)
    urls = postgres.bootstrap(server, DATABASE_NAME, recreate=True)
    subprocess.run(
        [sys.executable, "-m", "backend.cli", "db", "upgrade"],
        env={**os.environ, "ENVIRONMENT": "development", "DATABASE_URL": urls.app, "DATABASE_OWNER_URL": urls.owner},
        cwd=PROJECT_ROOT,
        check=True,
        timeout=300,
    )
    settings = Settings(
        environment=Environment.development,
        database_url=urls.app,
        database_owner_url=urls.owner,
        temporal_address="127.0.0.1:1",
        log_level="WARNING",
    )
    return asyncio.run(run(settings, args.requests, args.case_type))


if __name__ == "__main__":
    sys.exit(main())
