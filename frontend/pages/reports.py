"""Statistical report pages (统计报表): a report of a unit and period as it stands (printable, with its XLSX from
GET /api/v1/reports/{kind}?format=xlsx), publishing it (or a correction), and the published versions as frozen."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from backend.authz.principal import Principal
from backend.authz.vocabulary import Action
from backend.core.errors import InvalidInput
from backend.core.pagination import PageParams
from backend.db.session import SessionDep
from backend.reports import reports
from backend.reports.auth import ReportsPublish, ReportsRead
from backend.reports.periods import KIND_LABELS
from backend.reports.schemas import ReportPublish, ReportRead
from backend.reports.types import PeriodKind
from frontend.forms import Form, FormView
from frontend.pages.common import unit_options
from frontend.rendering import render

router = APIRouter(include_in_schema=False)
VERSIONS_SHOWN = 20


def column_groups(report: ReportRead) -> list[tuple[str, int]]:
    """The header groups of the report's columns, in order, with how many columns each spans."""
    groups: list[tuple[str, int]] = []
    for column in report.columns:
        if groups and groups[-1][0] == column.group:
            groups[-1] = (column.group, groups[-1][1] + 1)
        else:
            groups.append((column.group, 1))
    return groups


def _kind(value: str | None) -> PeriodKind:
    try:
        return PeriodKind(value) if value else PeriodKind.month
    except ValueError:
        return PeriodKind.month


async def _report_page(
    request: Request,
    session: SessionDep,
    principal: Principal,
    kind: PeriodKind,
    period: str | None,
    unit: str | None,
    form: FormView | None = None,
) -> HTMLResponse:
    errors: dict[str, str] = {}
    try:
        report = await reports.live_report(session, principal, kind, period or None, unit or None)
    except InvalidInput as error:
        errors = {"period": error.fields[0].msg if error.fields else error.detail}
        report = await reports.live_report(session, principal, kind, None, unit or None)
    versions, _ = await reports.published_reports(
        session, principal, None, report.unit_code, PageParams(page=1, size=VERSIONS_SHOWN)
    )
    values = {"kind": kind.value, "period": period or "", "unit": report.unit_code, **(form.values if form else {})}
    shown = (
        FormView(values, form.errors, form.status_code) if form else FormView(values, errors, 422 if errors else 200)
    )
    context: dict[str, Any] = {
        "report": report,
        "groups": column_groups(report),
        "kinds": list(KIND_LABELS.items()),
        "units": await unit_options(session, principal, Action.report_read),
        "may_publish": principal.can(Action.report_publish, report.unit_code),
        "versions": versions,
        "xlsx": f"/api/v1/reports/{report.kind.value}?period={report.period.key}&unit={report.unit_code}&format=xlsx",
    }
    return render(request, "reports/report.html", context, form=shown)


@router.get("/reports", response_class=HTMLResponse)
async def report_view(
    request: Request,
    session: SessionDep,
    principal: ReportsRead,
    kind: Annotated[str | None, Query(max_length=10)] = None,
    period: Annotated[str | None, Query(max_length=10)] = None,
    unit: Annotated[str | None, Query(max_length=12)] = None,
) -> HTMLResponse:
    return await _report_page(request, session, principal, _kind(kind), period, unit)


@router.post("/reports/publish", response_class=HTMLResponse)
async def report_publish(request: Request, session: SessionDep, principal: ReportsPublish) -> Response:
    form = await Form.read(request, ("kind", "period", "unit", "correction_reason"))
    kind = _kind(form.values["kind"])

    async def again(errors: dict[str, str]) -> HTMLResponse:
        return await _report_page(
            request, session, principal, kind, form.values["period"], form.values["unit"], form.view(errors)
        )

    return await form.submit(
        session,
        ReportPublish,
        lambda body: reports.publish_report(session, principal, kind, body),
        done=lambda published: f"/reports/published/{published.id}?done=published",
        again=again,
        data=form.given("period", "unit", "correction_reason"),
    )


@router.get("/reports/published/{report_id}", response_class=HTMLResponse)
async def published_view(
    request: Request, session: SessionDep, principal: ReportsRead, report_id: uuid.UUID
) -> HTMLResponse:
    report: ReportRead = await reports.published_report(session, principal, report_id)
    context = {
        "report": report,
        "groups": column_groups(report),
        "xlsx": f"/api/v1/reports/published/{report.id}?format=xlsx",
        "live": f"/reports?kind={report.kind.value}&period={report.period.key}&unit={report.unit_code}",
    }
    return render(request, "reports/published.html", context)
