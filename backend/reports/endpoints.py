"""Supervision routes: the KPI catalogue and targets, the cockpit and its rows (/api/v1/kpis), statistical reports
(/api/v1/reports), two-way assessment (/api/v1/assessments) and the platform operator's county aggregates
(/api/v1/platform/kpis)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from backend.core.pagination import PageParams, page_params
from backend.core.routing import API_V1
from backend.db.session import SessionDep
from backend.reports import service, targets
from backend.reports.auth import KpiConfigure, ReportRead
from backend.reports.schemas import Cockpit, KpiRead, KpiRowsPage, KpiTargetUpdate
from backend.reports.types import KpiCode, PeriodKind, RowPart

UnitQuery = Annotated[
    str | None, Query(pattern=r"^([0-9]{6}|[0-9]{9}|[0-9]{12})$", description="the unit (division code)")
]
KindQuery = Annotated[PeriodKind | None, Query(description="the period kind for every KPI (default: each KPI's own)")]
PeriodQuery = Annotated[
    str | None, Query(max_length=10, description="2026-03 (month), 2026-Q1, 2026 (year), FY2026 (FP year)")
]
KpiPath = Annotated[KpiCode, Path(description="the KPI's code")]

kpis_router = APIRouter(prefix=f"{API_V1}/kpis", tags=["kpis"])


@kpis_router.get("", summary="The cockpit of a unit: every KPI's value, target, status, trend and ranking")
async def get_cockpit(
    session: SessionDep,
    principal: ReportRead,
    unit: UnitQuery = None,
    period_kind: KindQuery = None,
    period: PeriodQuery = None,
) -> Cockpit:
    return await service.cockpit(session, principal, unit, period_kind, period)


@kpis_router.get("/catalogue", summary="The KPI catalogue with this county's targets")
async def get_catalogue(session: SessionDep, _: ReportRead) -> list[KpiRead]:
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
    principal: ReportRead,
    code: KpiPath,
    paging: Annotated[PageParams, Depends(page_params)],
    unit: UnitQuery = None,
    period_kind: KindQuery = None,
    period: PeriodQuery = None,
    part: Annotated[RowPart, Query(description="all, numerator, or the rest")] = RowPart.all,
) -> KpiRowsPage:
    return await service.kpi_rows(session, principal, code, unit, period_kind, period, part, paging)
