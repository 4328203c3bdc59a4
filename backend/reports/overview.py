"""The platform operator's view across counties (平台指标总览): every county's KPIs as counts, no rows, no personal
data, from the aggregate table `kpi_county_months`.

The platform context cannot read any county's rows (row-level security), and counting 100 counties' rows on
every request would be slow anyway; so each county's KPI counts per month are kept in `kpi_county_months`,
whose policy lets the platform read (only) that table. `KpiRefresher` keeps it current: a polling worker in the
worker process (`workflows/worker.py`) that refreshes, one county at a time in that county's own transaction,
every county whose counts are older than `REFRESH_HOURS`, replacing its last `REFRESH_MONTHS` months. Figures are
therefore as of each county's last refresh (shown as `refreshed_at`), and judged against the catalogue's default
targets (a county's own targets are its own business). `python -m backend.cli reports refresh-kpis` refreshes now.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from backend.authz.principal import Principal
from backend.core.clock import china_today, utc_now
from backend.core.polling import PollingWorker, PollSettings
from backend.db.engine import Database
from backend.db.tenancy import set_platform_context, set_tenant
from backend.reports.counting import Counts, Tally, count_kpis, period_months, ranked
from backend.reports.kpis import CATALOGUE, rate
from backend.reports.periods import add_months, month_of, trend_months
from backend.reports.records.repository import (
    CountyMonthRepository,
    PlatformAggregateRepository,
    StaleCountiesRepository,
)
from backend.reports.repository import Scope
from backend.reports.schemas import CountyFigure, MonthFigure, PlatformKpi, PlatformOverview
from backend.reports.service import period_read, resolve_period
from backend.reports.types import KpiCode, PeriodKind
from backend.tenants import service as tenants

log = logging.getLogger(__name__)

REFRESH_MONTHS = 24  # two years: this FP year, the last one and any twelve-month trend
REFRESH_HOURS = 6
REFRESH_BATCH = 5


def refresh_window(today: date) -> list[date]:
    last = month_of(today)
    return [add_months(last, offset) for offset in range(-(REFRESH_MONTHS - 1), 1)]


async def refresh_county(session: AsyncSession, county_code: str) -> int:
    """Recount the county's KPIs of the refresh window and replace its rows of `kpi_county_months` (a row for
    every KPI and month, zero included, so the refresh time is known even for a county with nothing yet). The
    session is scoped to the county. Returns the rows written."""
    today, now = china_today(), utc_now()
    months = refresh_window(today)
    tally = Tally(await count_kpis(session, Scope(county_code, county_code, now), months, CATALOGUE, today))
    rows = []
    for code in CATALOGUE:
        for month in months:
            counts = tally.month(code, month)
            rows.append((code.value, month, counts.numerator, counts.denominator))
    await CountyMonthRepository(session).replace_months(months, rows, now)
    return len(rows)


async def platform_overview(
    session: AsyncSession, principal: Principal, kind: PeriodKind | None, key: str | None
) -> PlatformOverview:
    """Every county's KPIs over each KPI's period (or the one named), with the all-county trend; counts only."""
    today = china_today()
    periods = {code: resolve_period(kpi, kind, key, today) for code, kpi in CATALOGUE.items()}
    trends = {code: trend_months(period, today) for code, period in periods.items()}
    months = sorted({month for window in trends.values() for month in window})
    repository = PlatformAggregateRepository(session)
    monthly = {(row.kpi_code, row.month): row for row in await repository.monthly_totals(months)}
    wanted = [
        (code.value, month) for code, kpi in CATALOGUE.items() for month in period_months(kpi, periods[code], today)
    ]
    by_county: dict[str, list[Any]] = {}
    for row in await repository.county_totals(wanted):
        by_county.setdefault(row.kpi_code, []).append(row)
    counties = {tenant.id: tenant for tenant in await tenants.list_tenants(session)}
    figures = []
    for code, kpi in CATALOGUE.items():

        def month_counts(month: date, code: KpiCode = code) -> Counts:
            row = monthly.get((code.value, month))
            return Counts(int(row.numerator), int(row.denominator)) if row else Counts()

        total = Counts()
        for month in period_months(kpi, periods[code], today):
            total = total + month_counts(month)
        county_figures = [
            CountyFigure(
                county_code=counties[row.tenant_id].code,
                county_name=counties[row.tenant_id].name,
                numerator=int(row.numerator),
                denominator=int(row.denominator),
                value=rate(int(row.numerator), int(row.denominator)),
                status=kpi.status(rate(int(row.numerator), int(row.denominator))),
            )
            for row in by_county.get(code.value, [])
            if row.tenant_id in counties and row.denominator
        ]
        figures.append(
            PlatformKpi(
                code=code,
                label=kpi.label,
                target=kpi.target,
                comparator=kpi.comparator,
                status=kpi.status(total.value),
                numerator=total.numerator,
                denominator=total.denominator,
                value=total.value,
                trend=[
                    MonthFigure(month=month, numerator=c.numerator, denominator=c.denominator, value=c.value)
                    for month in trends[code]
                    for c in [month_counts(month)]
                ],
                counties=ranked(kpi, sorted(county_figures, key=lambda figure: figure.county_code)),
            )
        )
    refreshed = [row.refreshed_at for row in monthly.values()]
    some_period = periods[next(iter(CATALOGUE))]
    return PlatformOverview(
        period=period_read(some_period), refreshed_at=min(refreshed) if refreshed else None, kpis=figures
    )


class KpiRefresher(PollingWorker):
    """Keeps every county's KPI counts (`kpi_county_months`) at most `REFRESH_HOURS` old, one county per
    transaction; a county another worker is refreshing is skipped."""

    name = "KPI aggregate refresher"

    def __init__(self, database: Database, settings: PollSettings | None = None) -> None:
        super().__init__(settings or PollSettings(batch_size=REFRESH_BATCH, idle_poll_seconds=60.0), database)

    async def poll(self) -> int:
        threshold = utc_now() - timedelta(hours=REFRESH_HOURS)
        async with self.database.sessionmaker() as session, session.begin():
            await set_platform_context(session)
            due = await StaleCountiesRepository(session).stale(threshold, self.settings.batch_size)
        refreshed = 0
        for tenant_id, code in due:
            async with self.database.sessionmaker() as session, session.begin():
                if not await StaleCountiesRepository(session).try_lock_county(tenant_id):
                    continue  # another worker is on it
                await set_tenant(session, tenant_id)
                written = await refresh_county(session, code)
            refreshed += 1
            log.info("KPI counts refreshed", extra={"tenant": code, "rows": written})
        return refreshed
