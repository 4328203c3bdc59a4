"""Supervision routes: the KPI catalogue and targets, the cockpit and its rows (/api/v1/kpis), statistical reports
(/api/v1/reports), two-way assessment (/api/v1/assessments) and the platform operator's county aggregates
(/api/v1/platform/kpis)."""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import Response

from backend.core.clock import china_today
from backend.core.input import CountyCode, UnitCode
from backend.core.pagination import Page, PageParams, page_params
from backend.core.routing import API_V1
from backend.db.session import SessionDep
from backend.registers.rendering import content_disposition
from backend.reports import assessments, overview, reports, service, targets, xlsx
from backend.reports.auth import (
    AssessmentsContest,
    AssessmentsManage,
    AssessmentsRead,
    KpiConfigure,
    KpiOverview,
    ReportsPublish,
    ReportsRead,
)
from backend.reports.schemas import (
    AssessmentItem,
    AssessmentPublish,
    AssessmentRead,
    Cockpit,
    ContestAnswer,
    ContestCreate,
    ContestRead,
    Counterpart,
    KpiRead,
    KpiRowsPage,
    KpiTargetUpdate,
    PeriodKey,
    PlatformOverview,
    PublishedReportItem,
    ReportPublish,
    ReportRead,
    SchemeRead,
    SchemeUpdate,
)
from backend.reports.types import KpiCode, PeriodKind, RowPart


class ReportFormat(StrEnum):
    json = "json"
    xlsx = "xlsx"


UnitQuery = Annotated[UnitCode | None, Query(description="the unit (division code)")]
KindQuery = Annotated[PeriodKind | None, Query(description="the period kind for every KPI (default: each KPI's own)")]
PeriodQuery = Annotated[PeriodKey | None, Query(description="2026-03 (month), 2026-Q1, 2026 (year), FY2026 (FP year)")]
KpiPath = Annotated[KpiCode, Path(description="the KPI's code")]

kpis_router = APIRouter(prefix=f"{API_V1}/kpis", tags=["kpis"])


@kpis_router.get("", summary="The cockpit of a unit: every KPI's value, target, status, trend and ranking")
async def get_cockpit(
    session: SessionDep,
    principal: ReportsRead,
    unit: UnitQuery = None,
    period_kind: KindQuery = None,
    period: PeriodQuery = None,
) -> Cockpit:
    return await service.cockpit(session, principal, unit, period_kind, period)


@kpis_router.get("/catalogue", summary="The KPI catalogue with this county's targets")
async def get_catalogue(session: SessionDep, _: ReportsRead) -> list[KpiRead]:
    return await targets.list_kpis(session)


@kpis_router.get("/targets", summary="The KPI targets, for the county administrator")
async def get_targets(session: SessionDep, _: KpiConfigure) -> list[KpiRead]:
    return await targets.list_kpis(session)


@kpis_router.put("/targets/{code}", summary="Set this county's target of a KPI (audited)")
async def put_target(session: SessionDep, principal: KpiConfigure, code: KpiPath, update: KpiTargetUpdate) -> KpiRead:
    return await targets.set_target(session, principal, code, update)


@kpis_router.delete("/targets/{code}", summary="Back to the catalogue's default target (audited)")
async def delete_target(
    session: SessionDep,
    principal: KpiConfigure,
    code: KpiPath,
    version: Annotated[int | None, Query(ge=1, description="the override's version as read")] = None,
) -> KpiRead:
    return await targets.reset_target(session, principal, code, version)


@kpis_router.get("/{code}/rows", summary="The rows behind a KPI's figure (the same rows it counts)")
async def get_kpi_rows(
    session: SessionDep,
    principal: ReportsRead,
    code: KpiPath,
    paging: Annotated[PageParams, Depends(page_params)],
    unit: UnitQuery = None,
    period_kind: KindQuery = None,
    period: PeriodQuery = None,
    part: Annotated[RowPart, Query(description="all, numerator, or the rest")] = RowPart.all,
) -> KpiRowsPage:
    return await service.kpi_rows(session, principal, code, unit, period_kind, period, part, paging)


# --- statistical reports ------------------------------------------------------------------------------------

reports_router = APIRouter(prefix=f"{API_V1}/reports", tags=["reports"])
KindPath = Annotated[PeriodKind, Path(description="month, quarter, year or fp_year (1 October – 30 September)")]


def _report_response(report: ReportRead, file_format: ReportFormat) -> ReportRead | Response:
    if file_format is ReportFormat.json:
        return report
    content = xlsx.report_workbook(report, xlsx.made_on(report, china_today()))
    filename, fallback = xlsx.report_filenames(report)
    return Response(
        content,
        media_type=xlsx.MEDIA_TYPE,
        headers={"Content-Disposition": content_disposition(filename, fallback), "Cache-Control": "no-store"},
    )


_XLSX: dict[int | str, dict[str, Any]] = {
    200: {"model": ReportRead, "content": {xlsx.MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}}}}
}
FormatQuery = Annotated[ReportFormat, Query(alias="format")]


@reports_router.get("/published", summary="Published report versions in the caller's reach, newest period first")
async def list_published(
    session: SessionDep,
    principal: ReportsRead,
    paging: Annotated[PageParams, Depends(page_params)],
    kind: Annotated[PeriodKind | None, Query()] = None,
    unit: UnitQuery = None,
) -> Page[PublishedReportItem]:
    items, total = await reports.published_reports(session, principal, kind, unit, paging)
    return Page(items=items, total=total, page=paging.page, size=paging.size)


@reports_router.get(
    "/published/{report_id}", response_model=None, responses=_XLSX, summary="A published version, as frozen"
)
async def get_published(
    session: SessionDep, principal: ReportsRead, report_id: uuid.UUID, file_format: FormatQuery = ReportFormat.json
) -> ReportRead | Response:
    return _report_response(await reports.published_report(session, principal, report_id), file_format)


@reports_router.get("/{kind}", response_model=None, responses=_XLSX, summary="A statistical report as it stands now")
async def get_report(
    session: SessionDep,
    principal: ReportsRead,
    kind: KindPath,
    period: PeriodQuery = None,
    unit: UnitQuery = None,
    file_format: FormatQuery = ReportFormat.json,
) -> ReportRead | Response:
    return _report_response(await reports.live_report(session, principal, kind, period, unit), file_format)


@reports_router.post("/{kind}/publish", status_code=201, summary="Publish (freeze) a report, or a correction of it")
async def publish(session: SessionDep, principal: ReportsPublish, kind: KindPath, body: ReportPublish) -> ReportRead:
    return await reports.publish_report(session, principal, kind, body)


# --- two-way assessment -------------------------------------------------------------------------------------

assessments_router = APIRouter(prefix=f"{API_V1}/assessments", tags=["assessments"])
YearPath = Annotated[int, Path(ge=2000, le=2100, description="the FP statistical year, named by the year it ends")]
CountyPath = Annotated[CountyCode, Path(description="the counterpart county's code")]


@assessments_router.get("/{year}/scheme", summary="The county's assessment scheme of an FP year")
async def get_scheme(session: SessionDep, principal: AssessmentsRead, year: YearPath) -> SchemeRead:
    return await assessments.get_scheme(session, principal, year)


@assessments_router.put("/{year}/scheme", summary="Save the county's assessment scheme (audited)")
async def put_scheme(
    session: SessionDep, principal: AssessmentsManage, year: YearPath, update: SchemeUpdate
) -> SchemeRead:
    return await assessments.save_scheme(session, principal, year, update)


@assessments_router.get("/{year}/counterparts", summary="Counties this one exchanged requests or notices with")
async def list_counterparts(session: SessionDep, principal: AssessmentsRead, year: YearPath) -> list[Counterpart]:
    return [
        Counterpart(code=code, name=name) for code, name in await assessments.counterparts(session, principal, year)
    ]


@assessments_router.get("/{year}/given", summary="Every version this county published in the year")
async def list_given(session: SessionDep, principal: AssessmentsRead, year: YearPath) -> list[AssessmentItem]:
    return await assessments.given(session, principal, year)


@assessments_router.get("/{year}/given/{counterpart}", summary="The live score given to a counterpart county")
async def get_given(
    session: SessionDep, principal: AssessmentsRead, year: YearPath, counterpart: CountyPath
) -> AssessmentRead:
    return await assessments.score_counterpart(session, principal, year, counterpart)


@assessments_router.post(
    "/{year}/given/{counterpart}/publish", status_code=201, summary="Publish (freeze) the score given to a county"
)
async def publish_given(
    session: SessionDep,
    principal: AssessmentsManage,
    year: YearPath,
    counterpart: CountyPath,
    body: AssessmentPublish,
) -> AssessmentRead:
    return await assessments.publish_counterpart(session, principal, year, counterpart, body)


@assessments_router.get("/{year}/received", summary="The scores other counties published about this one")
async def list_received(session: SessionDep, principal: AssessmentsRead, year: YearPath) -> list[AssessmentRead]:
    return await assessments.received(session, principal, year)


@assessments_router.get("/{year}/townships", summary="The live ranking of the county's townships")
async def get_townships(session: SessionDep, principal: AssessmentsRead, year: YearPath) -> AssessmentRead:
    return await assessments.score_townships(session, principal, year)


@assessments_router.post("/{year}/townships/publish", status_code=201, summary="Publish (freeze) the ranking")
async def publish_townships(
    session: SessionDep, principal: AssessmentsManage, year: YearPath, body: AssessmentPublish
) -> AssessmentRead:
    return await assessments.publish_townships(session, principal, year, body)


@assessments_router.get("/results/{assessment_id}", summary="A published assessment given or received")
async def get_result(session: SessionDep, principal: AssessmentsRead, assessment_id: uuid.UUID) -> AssessmentRead:
    return await assessments.get_assessment(session, principal, assessment_id)


@assessments_router.post(
    "/results/{assessment_id}/contests", status_code=201, summary="Contest an item of a score received (audited)"
)
async def post_contest(
    session: SessionDep, principal: AssessmentsContest, assessment_id: uuid.UUID, body: ContestCreate
) -> ContestRead:
    return await assessments.contest(session, principal, assessment_id, body)


@assessments_router.post("/contests/{contest_id}/answer", summary="Answer a contest (audited)")
async def post_answer(
    session: SessionDep, principal: AssessmentsContest, contest_id: uuid.UUID, body: ContestAnswer
) -> ContestRead:
    return await assessments.answer_contest(session, principal, contest_id, body)


# --- the platform operator ----------------------------------------------------------------------------------

platform_kpis_router = APIRouter(prefix=f"{API_V1}/platform/kpis", tags=["platform"])


@platform_kpis_router.get("", summary="Every county's KPIs as counts (the platform operator; no rows, no persons)")
async def get_platform_overview(
    session: SessionDep, principal: KpiOverview, period_kind: KindQuery = None, period: PeriodQuery = None
) -> PlatformOverview:
    return await overview.platform_overview(session, principal, period_kind, period)
