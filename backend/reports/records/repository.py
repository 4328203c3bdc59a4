"""What supervision stores, on the tenant-scoped base: the county's KPI targets, its published statistical reports,
its KPI counts per month for the platform operator, its assessment schemes, published assessments and contests."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, TypeAlias

from sqlalchemy import Row, delete, select
from sqlalchemy.dialects.postgresql import insert

from backend.authz.principal import Principal
from backend.authz.vocabulary import Action
from backend.db.repository import Repository, TenantScopedRepository
from backend.models import KpiCountyMonth, KpiTarget, StatisticalReport
from backend.reports.errors import ReportNotFound

AnyRow: TypeAlias = Row[*tuple[Any, ...]]


class KpiTargetRepository(TenantScopedRepository[KpiTarget]):
    """The county's own targets (a row only for a KPI whose target the county changed)."""

    model = KpiTarget
    unit_column = None
    entity_type = "kpi_target"

    async def by_code(self) -> dict[str, KpiTarget]:
        """The county's targets keyed by KPI code."""
        return {target.kpi_code: target for target in await self.all(self.base())}

    async def for_code(self, code: str, *, for_update: bool = False) -> KpiTarget | None:
        """The county's target for one KPI, or None (the default applies)."""
        statement = self.base().where(KpiTarget.kpi_code == code)
        return await self.one_or_none(statement.with_for_update() if for_update else statement)

    async def remove(self, target: KpiTarget) -> None:
        """Delete the county's own target (back to the default)."""
        await self.session.delete(target)
        await self.session.flush()


class CountyMonthRepository(TenantScopedRepository[KpiCountyMonth]):
    """The county KPI counts per month the platform operator reads: written per county, read across counties in
    the platform context (the table's policy admits it, for reading only)."""

    model = KpiCountyMonth
    unit_column = None

    async def replace_months(
        self, months: Sequence[date], rows: Sequence[tuple[str, date, int, int]], at: datetime
    ) -> None:
        """Replace the county's counts of these months by `rows` (kpi code, month, numerator, denominator)."""
        await self.session.execute(
            delete(KpiCountyMonth).where(self.in_county(), KpiCountyMonth.month.in_(list(months)))
        )
        if rows:
            await self.session.execute(
                insert(KpiCountyMonth).values(
                    [
                        {
                            "tenant_id": self.tenant_id,
                            "kpi_code": code,
                            "month": month,
                            "numerator": numerator,
                            "denominator": denominator,
                            "refreshed_at": at,
                        }
                        for code, month, numerator, denominator in rows
                    ]
                )
            )


class StatisticalReportRepository(TenantScopedRepository[StatisticalReport]):
    """Published statistical reports: inserted, never changed (the table grants no UPDATE)."""

    model = StatisticalReport
    entity_type = "statistical_report"
    not_found = ReportNotFound

    async def latest(self, kind: str, period_key: str, unit_code: str) -> StatisticalReport | None:
        """The newest published version of a report, or None."""
        statement = (
            self.base()
            .where(
                StatisticalReport.kind == kind,
                StatisticalReport.period_key == period_key,
                StatisticalReport.org_unit_code == unit_code,
            )
            .order_by(StatisticalReport.version_number.desc())
            .limit(1)
        )
        return await self.first(statement)

    async def published(
        self, principal: Principal, kind: str | None, unit_code: str | None, *, offset: int, limit: int
    ) -> tuple[list[StatisticalReport], int]:
        """The published versions the caller may read (report.read over their unit), newest first."""
        statement = self.readable(principal, Action.report_read)
        if kind is not None:
            statement = statement.where(StatisticalReport.kind == kind)
        if unit_code is not None:
            statement = statement.where(StatisticalReport.org_unit_code == unit_code)
        statement = statement.order_by(
            StatisticalReport.period_start.desc(),
            StatisticalReport.org_unit_code,
            StatisticalReport.version_number.desc(),
        )
        return await self.page(statement, offset=offset, limit=limit)


class PlatformAggregateRepository(Repository):
    """Every county's KPI counts per month, read in the platform context: the table's policy shows the platform
    every county's counts (and nothing else of theirs)."""

    async def county_months(self, months: Sequence[date]) -> Sequence[AnyRow]:
        """(tenant id, kpi code, month, numerator, denominator, refreshed_at) of every county for these months."""
        statement = select(
            KpiCountyMonth.tenant_id,
            KpiCountyMonth.kpi_code,
            KpiCountyMonth.month,
            KpiCountyMonth.numerator,
            KpiCountyMonth.denominator,
            KpiCountyMonth.refreshed_at,
        ).where(KpiCountyMonth.month.in_(list(months)))
        return (await self.session.execute(statement)).all()
