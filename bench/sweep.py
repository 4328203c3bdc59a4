"""The nightly follow-up sweep (随访与三查) at scale: by default 1,000,000 persons across 100 counties.

`python -m bench.sweep [--counties N] [--persons N] [--open-counties N]` (`make bench-sweep`):

1. starts the embedded PostgreSQL under var/bench-pgdata (Unix socket only), recreates the database
   `liuguan_bench_sweep` and migrates it with the CLI as the schema owner;
2. provisions the counties through the services and bulk-loads their persons with COPY, as bench/cases.py does
   (bench/cases_data.py; no cases), then gives 15% of the married women the pill and 5% an IUD inserted in the
   last year (the pill users' monthly visits and the post-procedure visits), and runs VACUUM ANALYZE;
3. plan, every county: the sweep activity's planning step (`FollowUpActivities._plan`: the county's rules and
   case types, every kind's due rows from the registry, and the keys already opened), county by county as the
   sweep workflow calls it. This is the nightly read over the whole registry;
4. open, the first `--open-counties` counties: the whole activity (`followups.plan_due`, run in Temporal's
   `ActivityEnvironment`), which opens every due case with its audit event, its outbox row and, for a check
   round, its round and the window's watch. A county's first night: every woman's round opens at once;
5. steady state, the same counties: `plan_due` again, when every due case is already open (the usual night);
6. baseline: the bare registry read of the same counties through the same sessions (row-level security set,
   the married women in the age band: the sweep's largest query), interleaved with step 3.

It prints the duration of each step, the cost per person and per case opened, the ratio plan/baseline and the
machine's load average. The Temporal workflow around the activities (one activity per county, ADR 0011) adds a
few milliseconds per county and is left out.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import date

from sqlalchemy import text
from temporalio.testing import ActivityEnvironment

from backend.config import PROJECT_ROOT, Environment, Settings
from backend.core.clock import china_today
from backend.core.context import SYSTEM_ACTOR, actor_var
from backend.db.engine import Database
from backend.db.tenancy import set_tenant
from backend.devservices import postgres
from bench.cases import log
from bench.cases_data import County, Sizes, _connect, bulk_load, create_officer, provision_counties, worker_pool
from workflows.followups.activities import FollowUpActivities
from workflows.followups.types import PlanDueInput, PlanDueResult

PGDATA = PROJECT_ROOT / "var" / "bench-pgdata"
DATABASE_NAME = "liuguan_bench_sweep"
DEFAULT_COUNTIES = 100
DEFAULT_PERSONS = 10_000
SEED = 20261207

MEASURES = """
    UPDATE persons SET contraception_measure = CASE WHEN r < 0.15 THEN 'pill' ELSE 'iud' END::contraception_measure,
        contraception_date = CASE WHEN r < 0.15 THEN DATE '2020-01-01'
                                  ELSE $1::date - (floor(r * 3650)::int % 365) END
    FROM (SELECT id, random() AS r FROM persons
          WHERE sex = 'female' AND marital_status IN ('first_marriage', 'remarried')) AS drawn
    WHERE persons.id = drawn.id AND drawn.r < 0.20
"""
BASELINE = """
    SELECT id, name, org_unit_code, flow_direction, key_subject, contraception_measure FROM persons
    WHERE tenant_id = :tenant AND status = 'active' AND sex = 'female'
      AND marital_status IN ('first_marriage', 'remarried') AND birth_date > :born_after
    ORDER BY id
"""


@dataclass
class Figures:
    plan_seconds: float = 0.0
    baseline_seconds: float = 0.0
    dues: int = 0
    baseline_rows: int = 0
    open_seconds: float = 0.0
    opened: int = 0
    open_persons: int = 0
    steady_seconds: float = 0.0
    steady_due: int = 0


async def add_measures(superuser_url: str, as_of: date) -> int:
    """Pill users and IUD insertions among the married women, so their visits fall due; then VACUUM ANALYZE."""
    connection = await _connect(superuser_url)
    try:
        status = await connection.execute(MEASURES, as_of)
        await connection.execute("VACUUM (ANALYZE) persons")
    finally:
        await connection.close()
    return int(status.split()[-1])


async def baseline(database: Database, county: County, as_of: date) -> int:
    async with database.sessionmaker() as session, session.begin():
        await set_tenant(session, county.tenant_id)
        born_after = date(as_of.year - 50, as_of.month, 1)
        rows = await session.execute(text(BASELINE), {"tenant": county.tenant_id, "born_after": born_after})
        return len(rows.all())


async def measure(database: Database, counties: list[County], open_counties: int, as_of: date) -> Figures:
    actor_var.set(SYSTEM_ACTOR)
    activities = FollowUpActivities(database)
    environment = ActivityEnvironment()
    figures = Figures()
    log(f"Plan: {len(counties)} counties, each followed by its baseline read")
    for index, county in enumerate(counties):
        started = time.perf_counter()
        planned = await activities._plan(county.code, as_of)
        figures.plan_seconds += time.perf_counter() - started
        if planned is not None:
            figures.dues += planned[2]
        started = time.perf_counter()
        figures.baseline_rows += await baseline(database, county, as_of)
        figures.baseline_seconds += time.perf_counter() - started
        if index % 10 == 9:
            log(f"  {index + 1} counties planned, {figures.dues:,} dues so far")
    chosen = counties[:open_counties]
    log(f"Open: plan_due in {len(chosen)} counties (first night: every due case opens)")
    for county in chosen:
        started = time.perf_counter()
        result: PlanDueResult = await environment.run(
            activities.plan_due, PlanDueInput(tenant_code=county.code, as_of=as_of)
        )
        figures.open_seconds += time.perf_counter() - started
        figures.opened += result.opened_total
    log("Steady state: plan_due again in the same counties (everything already open)")
    for county in chosen:
        started = time.perf_counter()
        result = await environment.run(activities.plan_due, PlanDueInput(tenant_code=county.code, as_of=as_of))
        figures.steady_seconds += time.perf_counter() - started
        figures.steady_due += result.due
        if result.opened_total:
            raise RuntimeError(f"county {county.code}: the second run opened {result.opened_total} cases again")
    return figures


def report(
    figures: Figures, persons: int, counties: int, open_counties: int, per_county: int, load: tuple[float, float]
) -> None:
    opened_persons = open_counties * per_county
    print()
    print(f"Nightly follow-up sweep: {persons:,} persons across {counties} counties (embedded PostgreSQL, Unix socket)")
    print(
        f"Python {platform.python_version()}; {os.cpu_count()} CPUs, "
        f"load average (1 min) {load[0]:.1f} before and {load[1]:.1f} after"
    )
    print()
    print(
        f"plan, all counties:     {figures.plan_seconds:8.1f} s  "
        f"{figures.plan_seconds / persons * 1e6:7.1f} µs/person  {figures.dues:,} dues"
    )
    print(
        f"baseline read:          {figures.baseline_seconds:8.1f} s  "
        f"{figures.baseline_seconds / persons * 1e6:7.1f} µs/person  {figures.baseline_rows:,} rows; "
        f"ratio plan/baseline {figures.plan_seconds / max(figures.baseline_seconds, 1e-9):.1f}"
    )
    if open_counties:
        print(
            f"open, {open_counties} county(ies):    {figures.open_seconds:8.1f} s  "
            f"{figures.open_seconds / max(figures.opened, 1) * 1e3:7.2f} ms/case  {figures.opened:,} cases opened"
        )
        print(
            f"steady, {open_counties} county(ies):  {figures.steady_seconds:8.1f} s  "
            f"{figures.steady_seconds / opened_persons * 1e6:7.1f} µs/person  {figures.steady_due:,} dues all open"
        )
        nightly = figures.steady_seconds / opened_persons * persons
        print(f"steady state extrapolated to {persons:,} persons: {nightly:.0f} s per night")
        first = figures.open_seconds / max(figures.opened, 1) * figures.dues
        print(f"first night (every due case opens) extrapolated to {figures.dues:,} dues: {first:.0f} s")


async def run(
    urls: postgres.DatabaseUrls, pool: ProcessPoolExecutor, counties: int, per_county: int, open_counties: int
) -> int:
    settings = Settings(
        environment=Environment.development, database_url=urls.app, database_owner_url=urls.owner, log_level="WARNING"
    )
    database = Database.from_settings(settings)
    as_of = china_today()
    try:
        sizes = Sizes(tenants=counties, cases_per_tenant=0, persons_per_tenant=per_county)
        log(f"Generating {counties} counties x {per_county:,} persons")
        started = time.perf_counter()
        provisioned = await provision_counties(database, sizes)
        officer = await create_officer(database, provisioned[0])
        loaded = await bulk_load(pool, urls.superuser, provisioned, provisioned[0], officer, sizes, SEED)
        rows = loaded.rows
        log(f"  generated in {time.perf_counter() - started:.0f} s")
        measured = await add_measures(urls.superuser, as_of)
        log(f"{rows['persons']:,} persons loaded; {measured:,} married women given the pill or an IUD")
        load_before = os.getloadavg()[0]
        figures = await measure(database, sorted(provisioned, key=lambda c: c.code), open_counties, as_of)
        load_after = os.getloadavg()[0]
    finally:
        await database.dispose()
    report(figures, rows["persons"], counties, open_counties, per_county, (load_before, load_after))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counties", type=int, default=DEFAULT_COUNTIES)
    parser.add_argument("--persons", type=int, default=DEFAULT_PERSONS, help="persons per county")
    parser.add_argument("--open-counties", type=int, default=1, help="counties whose first night is measured")
    options = parser.parse_args(argv)
    with worker_pool() as pool:
        server = postgres.start_server(PGDATA)  # held for the run: it stops when this process exits
        urls = postgres.bootstrap(server, DATABASE_NAME, recreate=True)
        subprocess.run(
            [sys.executable, "-m", "backend.cli", "db", "upgrade"],
            env={
                **os.environ,
                "ENVIRONMENT": "development",
                "DATABASE_URL": urls.app,
                "DATABASE_OWNER_URL": urls.owner,
            },
            cwd=PROJECT_ROOT,
            check=True,
            timeout=300,
        )
        return asyncio.run(
            run(urls, pool, options.counties, options.persons, min(options.open_counties, options.counties))
        )


if __name__ == "__main__":
    sys.exit(main())
