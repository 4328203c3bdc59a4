"""The cockpit (指标驾驶舱) and the rows behind each figure, the county's KPI targets, and the platform operator's
county overview. Same services as /api/v1/kpis and /api/v1/platform/kpis; charts are drawn by
static/kpis.js (ECharts from npm) from the accessible tables beside them."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from backend.authz.dependencies import PERMISSION_ATTRIBUTE
from backend.authz.principal import Principal
from backend.authz.vocabulary import Action
from backend.core.errors import InvalidInput
from backend.core.pagination import PageParams
from backend.db.session import SessionDep
from backend.reports import overview, service, targets
from backend.reports.auth import KpiConfigure, ReportsRead
from backend.reports.kpis import CATALOGUE
from backend.reports.periods import KIND_LABELS
from backend.reports.schemas import KpiTargetUpdate
from backend.reports.types import KpiCode, PeriodKind, RowPart
from frontend.forms import Form, FormView
from frontend.pages.common import page_count, page_number, unit_options
from frontend.pages.platform import platform_page_principal
from frontend.rendering import render

router = APIRouter(include_in_schema=False)
ROWS_PAGE_SIZE = 50


def _kind(value: str | None) -> PeriodKind | None:
    try:
        return PeriodKind(value) if value else None
    except ValueError:
        return None


def _period_choices() -> list[tuple[str, str]]:
    return [("", "各指标默认周期 / each KPI's own"), *((kind.value, label) for kind, label in KIND_LABELS.items())]


@router.get("/kpis", response_class=HTMLResponse)
async def cockpit(
    request: Request,
    session: SessionDep,
    principal: ReportsRead,
    unit: Annotated[str | None, Query(max_length=12)] = None,
    period_kind: Annotated[str | None, Query(max_length=10)] = None,
    period: Annotated[str | None, Query(max_length=10)] = None,
) -> HTMLResponse:
    kind = _kind(period_kind)
    values = {"unit": unit or "", "period_kind": period_kind or "", "period": period or ""}
    errors: dict[str, str] = {}
    try:
        figures = await service.cockpit(session, principal, unit or None, kind, (period or None) if kind else None)
    except InvalidInput as error:
        errors = {"period": error.fields[0].msg if error.fields else error.detail}
        figures = await service.cockpit(session, principal, unit or None)
    context = {
        "cockpit": figures,
        "units": await unit_options(session, principal, Action.report_read),
        "period_choices": _period_choices(),
        "query": {"unit": figures.unit_code, "period_kind": kind.value if kind else "", "period": period or ""},
    }
    return render(request, "kpis/cockpit.html", context, form=FormView(values, errors, 422 if errors else 200))


@router.get("/kpis/targets", response_class=HTMLResponse)
async def target_list(request: Request, session: SessionDep, principal: KpiConfigure) -> HTMLResponse:
    return await _targets_page(request, session)


async def _targets_page(request: Request, session: SessionDep, form: FormView | None = None) -> HTMLResponse:
    return render(request, "kpis/targets.html", {"kpis": await targets.list_kpis(session)}, form=form or FormView())


@router.post("/kpis/targets/{code}", response_class=HTMLResponse)
async def target_save(request: Request, session: SessionDep, principal: KpiConfigure, code: KpiCode) -> Response:
    form = await Form.read(request, ("target_percent", "version"), prefix=f"{code.value}_")
    return await form.submit(
        session,
        KpiTargetUpdate,
        lambda update: targets.set_target(session, principal, code, update),
        done=f"/kpis/targets?done=saved#kpi-{code.value}",
        again=lambda errors: _targets_page(request, session, form.view(errors)),
        data=form.given(),
    )


@router.post("/kpis/targets/{code}/reset", response_class=HTMLResponse)
async def target_reset(request: Request, session: SessionDep, principal: KpiConfigure, code: KpiCode) -> Response:
    form = await Form.read(request, ("version",))
    version = form.values["version"]
    await targets.reset_target(session, principal, code, int(version) if version.isdigit() else None)
    return RedirectResponse(f"/kpis/targets?done=reset#kpi-{code.value}", status_code=303)


@router.get("/kpis/{code}/rows", response_class=HTMLResponse)
async def kpi_rows(
    request: Request,
    session: SessionDep,
    principal: ReportsRead,
    code: KpiCode,
    unit: Annotated[str | None, Query(max_length=12)] = None,
    period_kind: Annotated[str | None, Query(max_length=10)] = None,
    period: Annotated[str | None, Query(max_length=10)] = None,
    part: RowPart = RowPart.all,
    page: Annotated[str | None, Query(max_length=8)] = None,
) -> HTMLResponse:
    kind = _kind(period_kind)
    paging = PageParams(page=page_number(page), size=ROWS_PAGE_SIZE)
    rows = await service.kpi_rows(session, principal, code, unit or None, kind, period if kind else None, part, paging)
    params = {"unit": rows.unit_code, "period_kind": rows.period.kind.value, "period": rows.period.key}
    context: dict[str, Any] = {
        "rows": rows,
        "kpi": CATALOGUE[code],
        "params": params,
        "pages": page_count(rows.total, rows.size),
        "page_params": {**params, "part": part.value},
    }
    return render(request, "kpis/rows.html", context)


# --- the platform operator --------------------------------------------------------------------------------


async def overview_page_principal(request: Request, session: SessionDep) -> Principal | None:
    """The platform page principal (the operator's page cookie), for the page that shows county KPI counts."""
    return await platform_page_principal(request, session)


setattr(overview_page_principal, PERMISSION_ATTRIBUTE, Action.kpi_overview.value)
OverviewPage = Annotated[Principal | None, Depends(overview_page_principal)]


@router.get("/platform/kpis", response_class=HTMLResponse)
async def platform_overview(
    request: Request,
    session: SessionDep,
    principal: OverviewPage,
    period_kind: Annotated[str | None, Query(max_length=10)] = None,
    period: Annotated[str | None, Query(max_length=10)] = None,
) -> Response:
    if principal is None:
        return RedirectResponse("/platform/login", status_code=303)
    kind = _kind(period_kind)
    figures = await overview.platform_overview(session, principal, kind, period if kind else None)
    values = {"period_kind": period_kind or "", "period": period or ""}
    context = {"overview": figures, "period_choices": _period_choices()}
    return render(request, "kpis/platform.html", context, form=FormView(values))
