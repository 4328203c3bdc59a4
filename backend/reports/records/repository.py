"""What supervision stores, on the tenant-scoped base: the county's KPI targets, its published statistical reports,
its KPI counts per month for the platform operator, its assessment schemes, published assessments and contests."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, TypeAlias

from sqlalchemy import Date, Row, Select, String, and_, delete, func, literal, or_, select
from sqlalchemy.dialects.postgresql import ARRAY, insert

from backend.authz.principal import Principal
from backend.authz.vocabulary import Action
from backend.db.repository import Repository, TenantScopedRepository
from backend.models import (
    Assessment,
    AssessmentContest,
    AssessmentScheme,
    KpiCountyMonth,
    KpiTarget,
    StatisticalReport,
    Tenant,
)
from backend.reports.errors import AssessmentNotFound, ContestNotFound, ReportNotFound

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

    async def monthly_totals(self, months: Sequence[date]) -> Sequence[AnyRow]:
        """(kpi code, month, numerator, denominator, oldest refresh) summed over every county, for these months."""
        statement = (
            select(
                KpiCountyMonth.kpi_code,
                KpiCountyMonth.month,
                func.sum(KpiCountyMonth.numerator).label("numerator"),
                func.sum(KpiCountyMonth.denominator).label("denominator"),
                func.min(KpiCountyMonth.refreshed_at).label("refreshed_at"),
            )
            .where(KpiCountyMonth.month.in_(list(months)))
            .group_by(KpiCountyMonth.kpi_code, KpiCountyMonth.month)
        )
        return (await self.session.execute(statement)).all()

    async def county_totals(self, kpi_months: Sequence[tuple[str, date]]) -> Sequence[AnyRow]:
        """(tenant id, kpi code, numerator, denominator) of every county, each KPI summed over its own months."""
        if not kpi_months:
            return []
        codes, months = zip(*kpi_months, strict=True)
        wanted = (
            func.unnest(literal(list(codes), ARRAY(String)), literal(list(months), ARRAY(Date)))
            .table_valued("kpi_code", "month")
            .render_derived(name="kpi_months")
        )
        statement = (
            select(
                KpiCountyMonth.tenant_id,
                KpiCountyMonth.kpi_code,
                func.sum(KpiCountyMonth.numerator).label("numerator"),
                func.sum(KpiCountyMonth.denominator).label("denominator"),
            )
            .join(wanted, and_(wanted.c.kpi_code == KpiCountyMonth.kpi_code, wanted.c.month == KpiCountyMonth.month))
            .group_by(KpiCountyMonth.tenant_id, KpiCountyMonth.kpi_code)
        )
        return (await self.session.execute(statement)).all()


class AssessmentSchemeRepository(TenantScopedRepository[AssessmentScheme]):
    """The county's assessment scheme per FP statistical year."""

    model = AssessmentScheme
    unit_column = None
    entity_type = "assessment_scheme"

    async def for_year(self, year: int, *, for_update: bool = False) -> AssessmentScheme | None:
        """The county's scheme of `year`, or None (the default scheme applies)."""
        statement = self.base().where(AssessmentScheme.year == year)
        return await self.one_or_none(statement.with_for_update() if for_update else statement)


class AssessmentRepository(TenantScopedRepository[Assessment]):
    """Published assessments this county gave, or was given (the table's policy shows it both)."""

    model = Assessment
    unit_column = None
    entity_type = "assessment"
    not_found = AssessmentNotFound

    def base(self) -> Select[Assessment]:
        """The assessments this county gave or got."""
        return select(Assessment).where(
            or_(Assessment.tenant_id == self.tenant_id, Assessment.assessed_tenant_id == self.tenant_id)
        )

    async def latest_given(self, kind: str, year: int, assessed_code: str) -> Assessment | None:
        """The newest version this county published about `assessed_code` (or its townships)."""
        statement = (
            select(Assessment)
            .where(
                self.in_county(),
                Assessment.kind == kind,
                Assessment.year == year,
                Assessment.assessed_county_code == assessed_code,
            )
            .order_by(Assessment.version_number.desc())
            .limit(1)
        )
        return await self.first(statement)

    async def given(self, year: int) -> list[Assessment]:
        """Every version this county published in `year`, newest first."""
        statement = (
            select(Assessment)
            .where(self.in_county(), Assessment.year == year)
            .order_by(Assessment.assessed_county_code, Assessment.kind, Assessment.version_number.desc())
        )
        return await self.all(statement)

    async def received(self, year: int) -> list[Assessment]:
        """Every version other counties published about this one in `year`, newest first."""
        statement = (
            select(Assessment)
            .where(
                Assessment.assessed_tenant_id == self.tenant_id,
                Assessment.tenant_id != self.tenant_id,
                Assessment.year == year,
            )
            .order_by(Assessment.assessor_county_code, Assessment.version_number.desc())
        )
        return await self.all(statement)

    async def by_id(self, assessment_id: uuid.UUID) -> Assessment:
        """One assessment this county gave or got; 404 otherwise."""
        row = await self.one_or_none(self.base().where(Assessment.id == assessment_id))
        if row is None:
            raise AssessmentNotFound()
        return row


class AssessmentContestRepository(TenantScopedRepository[AssessmentContest]):
    """Contests this county raised, or must answer (the table's policy shows them to both)."""

    model = AssessmentContest
    unit_column = None
    entity_type = "assessment_contest"
    not_found = ContestNotFound

    def base(self) -> Select[AssessmentContest]:
        """The contests this county raised or must answer."""
        return select(AssessmentContest).where(
            or_(
                AssessmentContest.tenant_id == self.tenant_id,
                AssessmentContest.assessor_tenant_id == self.tenant_id,
            )
        )

    async def for_assessments(self, assessment_ids: Sequence[uuid.UUID]) -> list[AssessmentContest]:
        """The contests of these assessments, oldest first."""
        if not assessment_ids:
            return []
        statement = self.base().where(AssessmentContest.assessment_id.in_(list(assessment_ids)))
        return await self.all(statement.order_by(AssessmentContest.raised_at))

    async def to_answer(self, contest_id: uuid.UUID) -> AssessmentContest:
        """A contest this county must answer, locked; 404 otherwise."""
        statement = (
            select(AssessmentContest)
            .where(AssessmentContest.id == contest_id, AssessmentContest.assessor_tenant_id == self.tenant_id)
            .with_for_update()
        )
        row = await self.one_or_none(statement)
        if row is None:
            raise ContestNotFound()
        return row


class StaleCountiesRepository(Repository):
    """Which counties' KPI counts are due for a refresh (platform context: the tenants list is everyone's, and the
    counts table shows the platform every county's refresh times)."""

    async def stale(self, refreshed_before: datetime, limit: int) -> list[tuple[uuid.UUID, str]]:
        """(tenant id, code) of active counties never refreshed or last refreshed before `refreshed_before`,
        oldest first."""
        last = (
            select(func.max(KpiCountyMonth.refreshed_at))
            .where(KpiCountyMonth.tenant_id == Tenant.id)
            .correlate(Tenant)
            .scalar_subquery()
        )
        statement = (
            select(Tenant.id, Tenant.code)
            .where(Tenant.active.is_(True), or_(last.is_(None), last < refreshed_before))
            .order_by(last.asc().nulls_first(), Tenant.code)
            .limit(limit)
        )
        return [(row.id, row.code) for row in (await self.session.execute(statement)).all()]

    async def try_lock_county(self, tenant_id: uuid.UUID) -> bool:
        """Take the county's refresh lock for this transaction, or False when another worker holds it."""
        key = func.hashtextextended(f"kpi-refresh:{tenant_id}", 0)
        return bool((await self.session.execute(select(func.pg_try_advisory_xact_lock(key)))).scalar())
