"""The case list at scale: the API against the same SQL run directly, measured in the same run.

`python -m bench.cases [--quick] [--tenants N] [--cases-per-tenant N] [--persons-per-tenant N]
[--iterations N] [--seed N] [--explain] [--reuse]` (`make bench-cases`):

1. starts the embedded PostgreSQL under var/bench-pgdata (Unix socket only), recreates the database
   `liuguan_bench_cases` and migrates it with the CLI as the schema owner, as operators do;
2. provisions the counties through the tenant service and the org CSV import (5 townships of 10 villages
   each, every unit audited), and creates the signed-in township officer through the identity service;
   then bulk-loads the other users, persons (encrypted ID and phone numbers with lookup digests), cases and
   case subjects with COPY as the superuser, from one worker process per CPU, and runs VACUUM ANALYZE
   (bench/cases_data.py). Prints how long each step took;
3. builds the app with create_app(settings) and calls it in-process through httpx's ASGI transport, signed
   in (POST /api/v1/auth/session) as a township officer of one county. For each scenario it runs the
   request and, as the baseline, the same SQL through an AsyncSession of the app's own engine as the
   application role: set_tenant, then CaseRepository.search with the filters the endpoint builds (for the
   ID lookup, the endpoint's person query first). The page and total of both are checked to be equal once.
   After a warm-up the two alternate, so a change in the machine's load weighs on both alike;
4. prints p50/p95/p99 per scenario in milliseconds, the ratio API/SQL, the machine's load average, and
   whether the filtered lists meet the target p95 <= 50 ms. `--explain` adds EXPLAIN (ANALYZE, BUFFERS) of
   the filtered lists' statements, as PostgreSQL plans the application's prepared statements once they
   have run a few times.

The defaults are issue 4 item 10's size: 100 counties of 10,000 cases (1,000,000) with 2,000 persons each
(200,000), 200 iterations. `--quick` is 10 counties of 2,000 cases and 100 iterations, for a smoke run.
The database is left in place for inspection and recreated by the next run; `--reuse` measures it again
without generating anything.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import event, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from backend.authz.vocabulary import Action
from backend.cases.repository import CaseFilters, CaseRepository
from backend.config import PROJECT_ROOT, Environment, Settings
from backend.core.crypto import personal_data_cipher
from backend.db.engine import Database
from backend.db.tenancy import set_tenant
from backend.devservices import postgres
from backend.identity.repository import IdentityRepository
from backend.identity.service import principal_for_user
from backend.main import create_app
from backend.models import Person
from backend.persons.resident_id import normalise_resident_id
from bench.cases_data import (
    RESIDENT_ID_CONTEXT,
    County,
    LoadReport,
    Officer,
    Sizes,
    bulk_load,
    create_officer,
    load_existing,
    provision_counties,
    worker_pool,
)

PGDATA = PROJECT_ROOT / "var" / "bench-pgdata"
DATABASE_NAME = "liuguan_bench_cases"
TARGET_P95_MS = 50.0
PAGE_SIZE = 50
DEFAULTS = Sizes(tenants=100, cases_per_tenant=10_000, persons_per_tenant=2_000)
QUICK = Sizes(tenants=10, cases_per_tenant=2_000, persons_per_tenant=400)
DEFAULT_ITERATIONS, QUICK_ITERATIONS = 200, 100
LOOKUP_SAMPLE = 50
SEED = 20261122


def log(message: str) -> None:
    """A progress line, flushed at once (the run takes minutes)."""
    print(message, flush=True)


@dataclass
class Scenario:
    """One request of the case list and the filters the endpoint derives from it.

    `resident_ids` (ID lookup only) rotate over iterations: iteration i asks for resident_ids[i % n], in the
    API and in the baseline alike.
    """

    name: str
    params: dict[str, str]
    filters: CaseFilters
    filtered_list: bool
    resident_ids: list[str] = field(default_factory=list)
    api_ms: list[float] = field(default_factory=list)
    sql_ms: list[float] = field(default_factory=list)
    # CPU time of this process per request: unlike the wall time, hardly changed by other work on the machine.
    api_cpu_ms: list[float] = field(default_factory=list)
    sql_cpu_ms: list[float] = field(default_factory=list)
    rows: int = 0
    total: int = 0

    def params_for(self, iteration: int) -> dict[str, str]:
        if not self.resident_ids:
            return self.params
        return self.params | {"resident_id": self.resident_ids[iteration % len(self.resident_ids)]}

    def resident_id_for(self, iteration: int) -> str | None:
        return self.resident_ids[iteration % len(self.resident_ids)] if self.resident_ids else None


def percentile(values: list[float], percent: int) -> float:
    """The `percent`th percentile (inclusive method), as bench/audit.py computes them."""
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[percent - 1]


class Runner:
    """Runs a scenario once through the API or once as the baseline SQL, returning wall-clock milliseconds."""

    def __init__(self, client: httpx.AsyncClient, database: Database, tenant_id: uuid.UUID) -> None:
        self.client = client
        self.database = database
        self.tenant_id = tenant_id

    async def api(self, scenario: Scenario, iteration: int) -> tuple[float, httpx.Response]:
        """GET /api/v1/cases with the scenario's query, as the signed-in officer."""
        started = time.perf_counter()
        response = await self.client.get("/api/v1/cases", params=scenario.params_for(iteration))
        elapsed = (time.perf_counter() - started) * 1000
        if response.status_code != 200:
            raise RuntimeError(f"{scenario.name}: HTTP {response.status_code}: {response.text[:300]}")
        return elapsed, response

    async def sql(self, scenario: Scenario, iteration: int) -> tuple[float, list[uuid.UUID], int]:
        """The statements the endpoint's transaction runs for the list, without authentication around them."""
        resident_id = scenario.resident_id_for(iteration)
        digest = (
            personal_data_cipher().lookup_hash(normalise_resident_id(resident_id), context=RESIDENT_ID_CONTEXT)
            if resident_id
            else None
        )
        started = time.perf_counter()
        async with self.database.sessionmaker() as session, session.begin():
            await set_tenant(session, self.tenant_id)
            filters = scenario.filters
            if digest is not None:
                rows = await session.execute(
                    select(Person.id).where(Person.tenant_id == self.tenant_id, Person.resident_id_hash == digest)
                )
                filters = replace(filters, person_ids=list(rows.scalars().all()))
            cases, total = await CaseRepository(session).search(filters, offset=0, limit=PAGE_SIZE)
        elapsed = (time.perf_counter() - started) * 1000
        return elapsed, [case.id for case in cases], total


async def check_same_page(runner: Runner, scenario: Scenario) -> None:
    """The API and the baseline must return the same page and total, or the comparison means nothing."""
    _, response = await runner.api(scenario, 0)
    _, ids, total = await runner.sql(scenario, 0)
    body = response.json()
    api_ids = [uuid.UUID(item["id"]) for item in body["items"]]
    if api_ids != ids or body["total"] != total:
        raise RuntimeError(f"{scenario.name}: the API and the baseline disagree ({body['total']} vs {total} rows)")
    scenario.rows, scenario.total = len(ids), total


async def measure(runner: Runner, scenarios: list[Scenario], iterations: int) -> None:
    """Warm up, then alternate API and SQL per iteration, swapping which goes first every time."""
    warm_up = max(5, iterations // 10)
    for scenario in scenarios:
        for iteration in range(warm_up):
            await runner.api(scenario, iteration)
            await runner.sql(scenario, iteration)

    async def api(scenario: Scenario, iteration: int) -> None:
        cpu = time.process_time()
        scenario.api_ms.append((await runner.api(scenario, iteration))[0])
        scenario.api_cpu_ms.append((time.process_time() - cpu) * 1000)

    async def sql(scenario: Scenario, iteration: int) -> None:
        cpu = time.process_time()
        scenario.sql_ms.append((await runner.sql(scenario, iteration))[0])
        scenario.sql_cpu_ms.append((time.process_time() - cpu) * 1000)

    for scenario in scenarios:
        for iteration in range(iterations):
            if iteration % 2 == 0:
                await api(scenario, iteration)
                await sql(scenario, iteration)
            else:
                await sql(scenario, iteration)
                await api(scenario, iteration)


def print_results(scenarios: list[Scenario], cases: int) -> None:
    """The table of figures and ratios, then the target's verdict for each filtered list at this size."""
    header = (
        f"{'scenario':<34} {'rows/total':>12}  {'API p50':>8} {'p95':>7} {'p99':>7}  "
        f"{'SQL p50':>8} {'p95':>7} {'p99':>7}  {'API/SQL p50':>11} {'p95':>5}  {'CPU API/SQL':>12}"
    )
    print(header)
    print("-" * len(header))
    for s in scenarios:
        api = [percentile(s.api_ms, p) for p in (50, 95, 99)]
        sql = [percentile(s.sql_ms, p) for p in (50, 95, 99)]
        cpu = f"{percentile(s.api_cpu_ms, 50):.1f}/{percentile(s.sql_cpu_ms, 50):.1f}"
        print(
            f"{s.name:<34} {f'{s.rows}/{s.total}':>12}  {api[0]:>8.2f} {api[1]:>7.2f} {api[2]:>7.2f}  "
            f"{sql[0]:>8.2f} {sql[1]:>7.2f} {sql[2]:>7.2f}  {api[0] / sql[0]:>10.2f}x {api[1] / sql[1]:>4.2f}x  "
            f"{cpu:>12}"
        )
    print(
        "(wall-clock milliseconds per request; rows/total: the first request's page and matching total; "
        "CPU API/SQL: p50 CPU milliseconds of this process per request, the server's excluded)"
    )
    print()
    for s in scenarios:
        if not s.filtered_list:
            continue
        p95 = percentile(s.api_ms, 95)
        verdict = "met" if p95 <= TARGET_P95_MS else "NOT met"
        print(
            f"target p95 <= {TARGET_P95_MS:.0f} ms for the filtered list at {cases:,} cases, {s.name}: {verdict} "
            f"(API p95 {p95:.2f} ms)"
        )


# --- EXPLAIN -----------------------------------------------------------------------------------------------


@contextmanager
def captured_sql(engine: AsyncEngine) -> Iterator[list[tuple[str, Any]]]:
    """The statements and parameters the driver receives while the block runs."""
    statements: list[tuple[str, Any]] = []

    def capture(
        connection: Connection, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool
    ) -> None:
        statements.append((statement, parameters))

    event.listen(engine.sync_engine, "before_cursor_execute", capture)
    try:
        yield statements
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", capture)


def sql_literal(value: Any) -> str:
    """A captured bind parameter as an SQL literal, for EXECUTE of a prepared statement."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, uuid.UUID | datetime | date):
        value = str(value)
    return "'" + str(value).replace("'", "''") + "'"


async def explain(runner: Runner, scenario: Scenario) -> None:
    """EXPLAIN (ANALYZE, BUFFERS) of each statement of the scenario's search, as the application role.

    Each statement is PREPAREd and EXECUTEd six times first, so the plan shown is the one PostgreSQL's plan
    cache settles on for the application's prepared statements (a generic plan shows $n in its conditions).
    """
    with captured_sql(runner.database.engine) as statements:
        await runner.sql(scenario, 0)
    searches = [(sql, params) for sql, params in statements if "FROM cases" in sql]
    print(f"EXPLAIN (ANALYZE, BUFFERS): {scenario.name}")
    async with runner.database.sessionmaker() as session, session.begin():
        await set_tenant(session, runner.tenant_id)
        connection = await session.connection()
        for number, (sql, params) in enumerate(searches):
            name = f"bench_explain_{number}"
            arguments = ", ".join(sql_literal(value) for value in params or ())
            execute = f"EXECUTE {name}({arguments})" if arguments else f"EXECUTE {name}"
            await connection.exec_driver_sql(f"PREPARE {name} AS {sql}")
            for _ in range(6):
                await connection.exec_driver_sql(execute)
            plan = await connection.exec_driver_sql(f"EXPLAIN (ANALYZE, BUFFERS) {execute}")
            print()
            print("  " + " ".join(sql.split()))
            print(f"  parameters: {list(params or ())}")
            for (line,) in plan.all():
                print(f"    {line}")
            await connection.exec_driver_sql(f"DEALLOCATE {name}")
    print()


# --- set-up ------------------------------------------------------------------------------------------------


async def sign_in(client: httpx.AsyncClient, county: County, officer: Officer) -> None:
    """POST /api/v1/auth/session; the client keeps the session cookie and sends the CSRF header."""
    response = await client.post(
        "/api/v1/auth/session",
        json={"tenant_code": county.code, "username": officer.username, "password": officer.password},
    )
    if response.status_code != 200:
        raise RuntimeError(f"sign-in failed: HTTP {response.status_code}: {response.text[:300]}")
    client.headers["X-CSRF-Token"] = response.json()["csrf_token"]


async def build_scenarios(database: Database, county: County, officer: Officer, seed: int) -> list[Scenario]:
    """The officer's queue views and the ID lookup, with the filters GET /api/v1/cases builds for them."""
    async with database.sessionmaker() as session, session.begin():
        await set_tenant(session, county.tenant_id)
        user = await IdentityRepository(session).user_by_id(officer.user_id)
        if user is None:
            raise RuntimeError("the bench officer is missing")
        principal = await principal_for_user(session, user, None, county.code)
    roots = principal.scopes_for(Action.case_read)
    township = officer.township
    in_township = {
        person.id for village in county.villages_by_township[township] for person in county.persons_by_village[village]
    }
    in_reach = sorted(number for person_id, number in county.resident_ids.items() if person_id in in_township)
    resident_ids = random.Random(seed).sample(in_reach, min(LOOKUP_SAMPLE, len(in_reach)))
    return [
        Scenario(
            "open, township, by due date",
            {"open": "true", "org_unit": township, "sort": "due_at", "size": str(PAGE_SIZE)},
            CaseFilters(roots=roots, org_unit=township, open_only=True, sort="due_at"),
            filtered_list=True,
        ),
        Scenario(
            "assignee=me, open, by due date",
            {"assignee": "me", "open": "true", "sort": "due_at", "size": str(PAGE_SIZE)},
            CaseFilters(roots=roots, assignee_id=officer.user_id, open_only=True, sort="due_at"),
            filtered_list=True,
        ),
        Scenario(
            "overdue, by due date",
            {"overdue": "true", "sort": "due_at", "size": str(PAGE_SIZE)},
            CaseFilters(roots=roots, overdue=True, sort="due_at"),
            filtered_list=True,
        ),
        Scenario(
            f"ID lookup (resident_id, {len(resident_ids)} IDs)",
            {"size": str(PAGE_SIZE)},
            CaseFilters(roots=roots, person_ids=[], sort="due_at"),
            filtered_list=False,
            resident_ids=resident_ids,
        ),
    ]


async def server_facts(database: Database) -> str:
    """The server settings that bear on the figures, and the size of the cases table."""
    async with database.sessionmaker() as session:
        facts = []
        for setting in ("server_version", "shared_buffers", "work_mem", "effective_cache_size", "random_page_cost"):
            facts.append(f"{setting}={(await session.execute(text(f'SHOW {setting}'))).scalar_one()}")
        cases = (await session.execute(text("SELECT pg_size_pretty(pg_total_relation_size('cases'))"))).scalar_one()
    return ", ".join(facts) + f"; cases table with indexes {cases}"


async def generate(
    pool: ProcessPoolExecutor, database: Database, urls: postgres.DatabaseUrls, sizes: Sizes, seed: int
) -> tuple[County, Officer, dict[str, int]]:
    """Counties through the services, then the bulk load; returns the measured county, its officer and the
    row counts, and prints how long each step took."""
    log(
        f"Generating {sizes.tenants} counties x {sizes.cases_per_tenant:,} cases ({sizes.cases:,}), "
        f"{sizes.persons:,} persons"
    )
    generation_started = started = time.perf_counter()
    counties = await provision_counties(database, sizes)
    measured = counties[len(counties) // 2]
    officer = await create_officer(database, measured)
    provisioning = time.perf_counter() - started
    log(f"  provisioning through the services: {len(counties)} counties with org trees in {provisioning:.1f} s")
    report: LoadReport = await bulk_load(pool, urls.superuser, counties, measured, officer, sizes, seed)
    generation = time.perf_counter() - generation_started
    steps = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in report.seconds.items())
    log(f"Generated in {generation:.1f} s (provisioning {provisioning:.1f} s, {steps})")
    return measured, officer, report.rows


async def run_bench(
    pool: ProcessPoolExecutor | None,
    urls: postgres.DatabaseUrls,
    sizes: Sizes,
    iterations: int,
    seed: int,
    show_plans: bool,
) -> int:
    """Generate (or, without a pool, reuse) the data, then measure and print. Returns the exit status."""
    settings = Settings(
        environment=Environment.development,
        database_url=urls.app,
        database_owner_url=urls.owner,
        # One access-log line per request would drown the figures; the middleware still runs.
        log_level="WARNING",
    )
    setup_database = Database.from_settings(settings)
    try:
        if pool is not None:
            measured, officer, rows = await generate(pool, setup_database, urls, sizes, seed)
        else:
            log("Reusing the data of an earlier run (--reuse)")
            measured, officer, rows = await load_existing(urls.superuser)
        facts = await server_facts(setup_database)
    finally:
        await setup_database.dispose()

    app: FastAPI = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            await sign_in(client, measured, officer)
            runner = Runner(client, app.state.database, measured.tenant_id)
            scenarios = await build_scenarios(app.state.database, measured, officer, seed)
            for scenario in scenarios:
                await check_same_page(runner, scenario)
            load_before = os.getloadavg()[0]
            await measure(runner, scenarios, iterations)
            load_after = os.getloadavg()[0]
            print()
            print(
                f"Case list: GET /api/v1/cases (create_app, httpx ASGI transport, signed in) vs the same SQL through "
                f"an AsyncSession (set_tenant + CaseRepository.search), {iterations} iterations each, alternating"
            )
            print(
                f"Data: {rows['cases']:,} cases, {rows['persons']:,} persons, {rows['case_subjects']:,} case "
                f"subjects, {rows['users']:,} users"
            )
            print(f"Signed in as {officer.username}, township officer of {officer.township} (county {measured.code})")
            print(f"PostgreSQL (embedded, Unix socket): {facts}; Python {platform.python_version()}")
            print(
                f"Machine: {os.cpu_count()} CPUs, load average (1 min) {load_before:.1f} before and "
                f"{load_after:.1f} after the measurements"
            )
            print()
            print_results(scenarios, rows["cases"])
            if show_plans:
                print()
                for scenario in scenarios:
                    if scenario.filtered_list:
                        await explain(runner, scenario)
    return 0


@dataclass(frozen=True)
class Options:
    """What to generate and how long to measure."""

    sizes: Sizes
    iterations: int
    seed: int
    explain: bool
    reuse: bool


def parse_options(argv: list[str] | None) -> Options:
    """The command line; `--quick` sets smaller defaults that explicit sizes still override."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.cases",
        description="Case list and ID lookup at scale: the API against the same SQL run directly",
    )
    parser.add_argument("--quick", action="store_true", help="smoke run: 10 counties x 2,000 cases, 100 iterations")
    parser.add_argument("--tenants", type=int, help=f"counties; default {DEFAULTS.tenants}")
    parser.add_argument("--cases-per-tenant", type=int, help=f"default {DEFAULTS.cases_per_tenant:,}")
    parser.add_argument("--persons-per-tenant", type=int, help=f"default {DEFAULTS.persons_per_tenant:,}")
    parser.add_argument("--iterations", type=int, help=f"measured requests per scenario; default {DEFAULT_ITERATIONS}")
    parser.add_argument("--seed", type=int, default=SEED, help="random seed of the generated data")
    parser.add_argument("--explain", action="store_true", help="print EXPLAIN (ANALYZE, BUFFERS) of the list queries")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="measure the database of an earlier run again instead of recreating it (sizes are ignored)",
    )
    args = parser.parse_args(argv)
    base = QUICK if args.quick else DEFAULTS
    sizes = Sizes(
        tenants=args.tenants or base.tenants,
        cases_per_tenant=args.cases_per_tenant or base.cases_per_tenant,
        persons_per_tenant=args.persons_per_tenant or base.persons_per_tenant,
    )
    iterations = args.iterations or (QUICK_ITERATIONS if args.quick else DEFAULT_ITERATIONS)
    if min(sizes.tenants, sizes.cases_per_tenant, iterations) < 1 or sizes.tenants > 9999:
        parser.error("sizes and iterations must be at least 1, and at most 9999 counties")
    if sizes.persons_per_tenant < sizes.townships * sizes.villages_per_township:
        parser.error("--persons-per-tenant must give every village at least one person (50)")
    return Options(sizes, iterations, args.seed, args.explain, args.reuse)


def main(argv: list[str] | None = None) -> int:
    options = parse_options(argv)
    if options.reuse:
        server = postgres.start_server(PGDATA)
        urls = postgres.urls_for(server, DATABASE_NAME)
        return asyncio.run(run_bench(None, urls, options.sizes, options.iterations, options.seed, options.explain))
    # Before anything else: the generation workers are forked from this still-empty process.
    with worker_pool() as pool:
        # Held for the whole run: the embedded server stops when this process exits.
        server = postgres.start_server(PGDATA)
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
        return asyncio.run(run_bench(pool, urls, options.sizes, options.iterations, options.seed, options.explain))


if __name__ == "__main__":
    sys.exit(main())
