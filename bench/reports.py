"""Supervision at scale: the cockpit, a county's annual report and the platform overview, through the API and as
the same aggregate SQL run directly, measured in the same run.

`python -m bench.reports [--quick] [--tenants N] [--cases-per-tenant N] [--persons-per-tenant N]
[--requests-per-tenant N] [--iterations N] [--report-iterations N] [--seed N] [--reuse [--no-refresh]]`
(`make bench-reports`):

1. starts the embedded PostgreSQL under var/bench-pgdata, recreates `liuguan_bench_reports` and migrates it;
2. generates bench/cases_data.py's counties, users, persons and cases (COPY from worker processes), then
   verification rows, certificates and inspections inside PostgreSQL (bench/reports_data.py), and the county
   supervisor of the measured county through the identity service; then refreshes every county's KPI counts for
   the platform overview (backend/reports/overview.py `refresh_county`, as the application role, timed);
3. calls the app in-process (create_app, httpx ASGI transport), signed in as the county supervisor, and, as the
   baseline, runs the same aggregate statements through an AsyncSession as the application role (set_tenant,
   then the repository's counting statements), alternating the two after a warm-up:
   - the county cockpit, GET /api/v1/kpis: every KPI over its own period, the twelve-month trend and the ranking
     of townships; baseline: `count_kpis` (five statements) for the same months;
   - a township's cockpit, GET /api/v1/kpis?unit=<township>;
   - the county's annual report (calendar year) and FP-year report, GET /api/v1/reports/{year,fp_year};
     baseline: `ReportFiguresRepository.counts` for the same window;
   - the platform operator's overview, GET /api/v1/platform/kpis (bearer token); baseline: reading the same counts
     from `kpi_county_months` in the platform context;
4. prints p50/p95/p99 per scenario, the ratio API/SQL, the machine's load average, and whether the targets of issue
   #18 are met (cockpit p95 <= 200 ms; annual county report <= 2 s).

The defaults are the issue's size: 100 counties of 10,000 cases (1,000,000) and 2,000 persons (200,000), and 3,000
verification rows sent by each county (300,000). `--quick` is 10 counties of 2,000 cases, 400 persons and 300
rows, for a smoke run. `--reuse` measures an earlier run's database again; `--no-refresh` then keeps the platform
counts it refreshed.
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
from collections.abc import Awaitable, Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field

import httpx
from fastapi import FastAPI
from sqlalchemy import text

from backend.config import PROJECT_ROOT, Environment, Settings
from backend.core.clock import china_today, utc_now
from backend.db.engine import Database
from backend.db.tenancy import set_platform_context, set_tenant
from backend.devservices import postgres
from backend.main import create_app
from backend.reports.counting import count_kpis, period_months
from backend.reports.figures.repository import ReportFiguresRepository, ReportWindow
from backend.reports.kpis import CATALOGUE
from backend.reports.overview import refresh_county
from backend.reports.periods import period_containing, trend_months
from backend.reports.records.repository import PlatformAggregateRepository
from backend.reports.repository import Scope
from backend.reports.types import PeriodKind
from bench.cases_data import Sizes, bulk_load, create_officer, provision_counties, worker_pool
from bench.reports_data import PASSWORD, create_supervisor, load_supervision_rows, measured_county, row_counts

PGDATA = PROJECT_ROOT / "var" / "bench-pgdata"
DATABASE_NAME = "liuguan_bench_reports"
COCKPIT_TARGET_MS = 200.0
ANNUAL_REPORT_TARGET_MS = 2000.0
DEFAULTS = Sizes(tenants=100, cases_per_tenant=10_000, persons_per_tenant=2_000)
QUICK = Sizes(tenants=10, cases_per_tenant=2_000, persons_per_tenant=400)
DEFAULT_REQUESTS, QUICK_REQUESTS = 3_000, 300
DEFAULT_ITERATIONS, QUICK_ITERATIONS = 100, 30
DEFAULT_REPORT_ITERATIONS, QUICK_REPORT_ITERATIONS = 20, 10
SEED = 20261207


def log(message: str) -> None:
    print(message, flush=True)


def percentile(values: list[float], percent: int) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[percent - 1]


@dataclass
class Scenario:
    """One request through the API and its baseline SQL; both return wall-clock milliseconds."""

    name: str
    api: Callable[[], Awaitable[None]]
    sql: Callable[[], Awaitable[None]]
    iterations: int
    target_ms: float | None = None
    api_ms: list[float] = field(default_factory=list)
    sql_ms: list[float] = field(default_factory=list)


async def _timed(call: Callable[[], Awaitable[None]]) -> float:
    started = time.perf_counter()
    await call()
    return (time.perf_counter() - started) * 1000


async def measure(scenario: Scenario) -> None:
    """Warm up, then alternate API and SQL, swapping which goes first every time."""
    for _ in range(max(2, scenario.iterations // 10)):
        await scenario.api()
        await scenario.sql()
    for iteration in range(scenario.iterations):
        if iteration % 2 == 0:
            scenario.api_ms.append(await _timed(scenario.api))
            scenario.sql_ms.append(await _timed(scenario.sql))
        else:
            scenario.sql_ms.append(await _timed(scenario.sql))
            scenario.api_ms.append(await _timed(scenario.api))


def print_results(scenarios: list[Scenario]) -> None:
    header = (
        f"{'scenario':<38} {'n':>4}  {'API p50':>8} {'p95':>8} {'p99':>8}  {'SQL p50':>8} {'p95':>8} {'p99':>8}  "
        f"{'API/SQL p50':>11} {'p95':>6}"
    )
    print(header)
    print("-" * len(header))
    for s in scenarios:
        api = [percentile(s.api_ms, p) for p in (50, 95, 99)]
        sql = [percentile(s.sql_ms, p) for p in (50, 95, 99)]
        print(
            f"{s.name:<38} {s.iterations:>4}  {api[0]:>8.1f} {api[1]:>8.1f} {api[2]:>8.1f}  "
            f"{sql[0]:>8.1f} {sql[1]:>8.1f} {sql[2]:>8.1f}  {api[0] / sql[0]:>10.2f}x {api[1] / sql[1]:>5.2f}x"
        )
    print("(wall-clock milliseconds per request; SQL: the same aggregate statements run directly as the app role)")
    print()
    for s in scenarios:
        if s.target_ms is None:
            continue
        worst = percentile(s.api_ms, 95)
        verdict = "met" if worst <= s.target_ms else "NOT met"
        print(f"target p95 <= {s.target_ms:.0f} ms, {s.name}: {verdict} (API p95 {worst:.1f} ms)")


async def sign_in(client: httpx.AsyncClient, county_code: str, username: str) -> None:
    response = await client.post(
        "/api/v1/auth/session", json={"tenant_code": county_code, "username": username, "password": PASSWORD}
    )
    if response.status_code != 200:
        raise RuntimeError(f"sign-in failed: HTTP {response.status_code}: {response.text[:300]}")
    client.headers["X-CSRF-Token"] = response.json()["csrf_token"]


def scenarios_for(
    client: httpx.AsyncClient,
    platform_client: httpx.AsyncClient,
    database: Database,
    tenant_id: uuid.UUID,
    county_code: str,
    iterations: int,
    report_iterations: int,
) -> list[Scenario]:
    today = china_today()
    township = f"{county_code}001"

    async def get(target: httpx.AsyncClient, path: str, **params: str) -> None:
        response = await target.get(path, params=params)
        if response.status_code != 200:
            raise RuntimeError(f"{path}: HTTP {response.status_code}: {response.text[:300]}")

    def cockpit_sql(root: str) -> Callable[[], Awaitable[None]]:
        periods = {code: period_containing(kpi.period_kind, today) for code, kpi in CATALOGUE.items()}
        months = sorted({month for period in periods.values() for month in trend_months(period, today)})

        async def run() -> None:
            async with database.sessionmaker() as session, session.begin():
                await set_tenant(session, tenant_id)
                scope = Scope(county_code, root, utc_now(), len(root) + 3)
                await count_kpis(session, scope, months, CATALOGUE, today)

        return run

    def report_sql(kind: PeriodKind) -> Callable[[], Awaitable[None]]:
        period = period_containing(kind, today)

        async def run() -> None:
            async with database.sessionmaker() as session, session.begin():
                await set_tenant(session, tenant_id)
                window = ReportWindow(
                    county_code, county_code, period.start, period.end, period.begins_at, period.ends_before, utc_now()
                )
                await ReportFiguresRepository(session).counts(window)

        return run

    async def overview_sql() -> None:
        periods = {code: period_containing(kpi.period_kind, today) for code, kpi in CATALOGUE.items()}
        months = sorted({month for period in periods.values() for month in trend_months(period, today)})
        wanted = [
            (code.value, month) for code, kpi in CATALOGUE.items() for month in period_months(kpi, periods[code], today)
        ]
        async with database.sessionmaker() as session, session.begin():
            await set_platform_context(session)
            repository = PlatformAggregateRepository(session)
            await repository.monthly_totals(months)
            await repository.county_totals(wanted)

    year, fp_year = period_containing(PeriodKind.year, today), period_containing(PeriodKind.fp_year, today)
    return [
        Scenario(
            f"cockpit, county ({len(CATALOGUE)} KPIs, trend, rank)",
            lambda: get(client, "/api/v1/kpis"),
            cockpit_sql(county_code),
            iterations,
            COCKPIT_TARGET_MS,
        ),
        Scenario(
            "cockpit, township",
            lambda: get(client, "/api/v1/kpis", unit=township),
            cockpit_sql(township),
            iterations,
            COCKPIT_TARGET_MS,
        ),
        Scenario(
            f"annual report, county ({year.key})",
            lambda: get(client, "/api/v1/reports/year", period=year.key),
            report_sql(PeriodKind.year),
            report_iterations,
            ANNUAL_REPORT_TARGET_MS,
        ),
        Scenario(
            f"FP-year report, county ({fp_year.key})",
            lambda: get(client, "/api/v1/reports/fp_year", period=fp_year.key),
            report_sql(PeriodKind.fp_year),
            report_iterations,
            ANNUAL_REPORT_TARGET_MS,
        ),
        Scenario(
            "platform overview (every county)",
            lambda: get(platform_client, "/api/v1/platform/kpis"),
            overview_sql,
            iterations,
        ),
    ]


async def refresh_all(database: Database) -> tuple[int, float]:
    """Every county's KPI counts for the platform overview, county by county; (counties, seconds)."""
    async with database.sessionmaker() as session, session.begin():
        rows = (await session.execute(text("SELECT id, code FROM tenants ORDER BY code"))).all()
    started = time.perf_counter()
    for tenant_id, code in rows:
        async with database.sessionmaker() as session, session.begin():
            await set_tenant(session, tenant_id)
            await refresh_county(session, code)
    return len(rows), time.perf_counter() - started


async def generate(
    pool: ProcessPoolExecutor, database: Database, urls: postgres.DatabaseUrls, options: Options
) -> tuple[uuid.UUID, str]:
    sizes = options.sizes
    log(
        f"Generating {sizes.tenants} counties: {sizes.cases:,} cases, {sizes.persons:,} persons, "
        f"{sizes.tenants * options.requests_per_tenant:,} verification rows"
    )
    started = time.perf_counter()
    counties = await provision_counties(database, sizes)
    measured = counties[len(counties) // 2]
    officer = await create_officer(database, measured)
    await create_supervisor(database, measured)
    report = await bulk_load(pool, urls.superuser, counties, measured, officer, sizes, options.seed)
    extra = await load_supervision_rows(urls.superuser, options.requests_per_tenant, sizes.townships)
    steps = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in {**report.seconds, **extra}.items())
    log(f"Generated in {time.perf_counter() - started:.1f} s ({steps})")
    return measured.tenant_id, measured.code


@dataclass(frozen=True)
class Options:
    sizes: Sizes
    requests_per_tenant: int
    iterations: int
    report_iterations: int
    seed: int
    reuse: bool
    refresh: bool = True


async def run_bench(pool: ProcessPoolExecutor | None, urls: postgres.DatabaseUrls, options: Options) -> int:
    settings = Settings(
        environment=Environment.development, database_url=urls.app, database_owner_url=urls.owner, log_level="WARNING"
    )
    setup = Database.from_settings(settings)
    try:
        if pool is not None:
            tenant_id, county_code = await generate(pool, setup, urls, options)
        else:
            log("Reusing the data of an earlier run (--reuse)")
            tenant_id, county_code = await measured_county(urls.superuser)
        if options.refresh:
            counties, refresh_seconds = await refresh_all(setup)
            per_county = refresh_seconds / counties * 1000
            log(f"KPI counts refreshed for {counties} counties in {refresh_seconds:.1f} s ({per_county:.0f} ms each)")
        else:
            per_county = float("nan")
    finally:
        await setup.dispose()
    rows = await row_counts(urls.superuser)

    app: FastAPI = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with (
            httpx.AsyncClient(transport=transport, base_url="http://testserver") as client,
            httpx.AsyncClient(
                transport=transport,
                base_url="http://testserver",
                headers={"Authorization": f"Bearer {settings.platform_admin_token}"},
            ) as platform_client,
        ):
            await sign_in(client, county_code, "county.supervisor")
            scenarios = scenarios_for(
                client,
                platform_client,
                app.state.database,
                tenant_id,
                county_code,
                options.iterations,
                options.report_iterations,
            )
            load_before = os.getloadavg()
            for scenario in scenarios:
                await measure(scenario)
            load_after = os.getloadavg()
    print()
    print(
        "Supervision: the API (create_app, httpx ASGI transport, signed in as the county supervisor; the platform "
        "overview with the operator's token) vs the same aggregate SQL run directly, alternating"
    )
    print(
        f"Data: {rows['tenants']} counties, {rows['cases']:,} cases, {rows['persons']:,} persons, "
        f"{rows['verification_requests']:,} verification rows, {rows['certificates']:,} certificates, "
        f"{rows['certificate_inspections']:,} inspections; measured county {county_code}"
    )
    print(f"PostgreSQL (embedded, Unix socket); Python {platform.python_version()}")
    print(
        f"Machine: {os.cpu_count()} CPUs, load average (1/5/15 min) {load_before[0]:.1f}/{load_before[1]:.1f}/"
        f"{load_before[2]:.1f} before and {load_after[0]:.1f}/{load_after[1]:.1f}/{load_after[2]:.1f} after"
    )
    print(f"KPI count refresh (platform overview's aggregates): {per_county:.0f} ms a county")
    print()
    print_results(scenarios)
    return 0


def parse_options(argv: list[str] | None) -> Options:
    parser = argparse.ArgumentParser(prog="python -m bench.reports", description="Supervision at scale")
    parser.add_argument("--quick", action="store_true", help="smoke run: 10 counties x 2,000 cases")
    parser.add_argument("--tenants", type=int)
    parser.add_argument("--cases-per-tenant", type=int)
    parser.add_argument("--persons-per-tenant", type=int)
    parser.add_argument("--requests-per-tenant", type=int)
    parser.add_argument("--iterations", type=int, help="measured requests per cockpit/overview scenario")
    parser.add_argument("--report-iterations", type=int, help="measured requests per report scenario")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--reuse", action="store_true", help="measure the database of an earlier run again")
    parser.add_argument(
        "--no-refresh", action="store_true", help="with --reuse: keep the platform counts of the earlier run"
    )
    args = parser.parse_args(argv)
    base = QUICK if args.quick else DEFAULTS
    sizes = Sizes(
        tenants=args.tenants or base.tenants,
        cases_per_tenant=args.cases_per_tenant or base.cases_per_tenant,
        persons_per_tenant=args.persons_per_tenant or base.persons_per_tenant,
    )
    options = Options(
        sizes=sizes,
        requests_per_tenant=args.requests_per_tenant or (QUICK_REQUESTS if args.quick else DEFAULT_REQUESTS),
        iterations=args.iterations or (QUICK_ITERATIONS if args.quick else DEFAULT_ITERATIONS),
        report_iterations=args.report_iterations
        or (QUICK_REPORT_ITERATIONS if args.quick else DEFAULT_REPORT_ITERATIONS),
        seed=args.seed,
        reuse=args.reuse,
        refresh=not (args.reuse and args.no_refresh),
    )
    if min(sizes.tenants, sizes.cases_per_tenant, options.iterations, options.report_iterations) < 1:
        parser.error("sizes and iterations must be at least 1")
    if sizes.tenants < 2 or sizes.tenants > 9999:
        parser.error("between 2 and 9999 counties")
    if sizes.persons_per_tenant < sizes.townships * sizes.villages_per_township:
        parser.error("--persons-per-tenant must give every village at least one person (50)")
    return options


def main(argv: list[str] | None = None) -> int:
    options = parse_options(argv)
    if options.reuse:
        server = postgres.start_server(PGDATA)
        return asyncio.run(run_bench(None, postgres.urls_for(server, DATABASE_NAME), options))
    with worker_pool() as pool:
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
        return asyncio.run(run_bench(pool, urls, options))


if __name__ == "__main__":
    sys.exit(main())
