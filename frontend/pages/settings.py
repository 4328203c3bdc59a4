"""County admin configuration pages: department API clients, the holiday calendar (county holidays, imported
as lines), and the case types' deadlines. Same services as /api/v1/admin/api-clients, /api/v1/calendar and
/api/v1/case-types (validated and audited there)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from backend.authz.vocabulary import ClientScope
from backend.calendar import service as calendar
from backend.calendar.auth import ConfigManage
from backend.calendar.schemas import CountyHolidayCreate
from backend.case_types import service as case_types
from backend.case_types.definitions import DEFAULT_ALERTS
from backend.case_types.schemas import CaseTypeOverrideUpdate, CaseTypeRead
from backend.clients import service as clients
from backend.clients.auth import ClientsManage
from backend.clients.schemas import ApiClientCreate, Department
from backend.db.session import SessionDep
from backend.models import CaseStage
from frontend.forms import FieldErrors, Form, FormView, field_errors
from frontend.rendering import render

router = APIRouter(include_in_schema=False)


# --- API clients ---------------------------------------------------------------------------------------------


async def _clients_page(
    request: Request, session: AsyncSession, form: FormView | None = None, secret: tuple[str, str] | None = None
) -> HTMLResponse:
    context = {
        "clients": await clients.list_clients(session),
        "departments": [department.value for department in Department],
        "scopes": [scope.value for scope in ClientScope],
        "secret": secret,
    }
    return render(request, "admin/clients.html", context, form=form or FormView(), status_code=201 if secret else None)


@router.get("/admin/clients", response_class=HTMLResponse)
async def client_list(request: Request, session: SessionDep, principal: ClientsManage) -> HTMLResponse:
    return await _clients_page(request, session)


@router.post("/admin/clients", response_class=HTMLResponse)
async def client_create(request: Request, session: SessionDep, principal: ClientsManage) -> HTMLResponse:
    form = await Form.read(request, ("name", "department", "webhook_url"), lists=("scopes",))
    created = await form.attempt(
        session,
        ApiClientCreate,
        lambda body: clients.create_client(session, body, tenant_code=principal.tenant_code),
    )
    if isinstance(created, FieldErrors):
        return await _clients_page(request, session, form.view(created))
    # The secret is shown this once, on this response; it is stored only as a hash.
    client, secret = created
    return await _clients_page(request, session, secret=(client.client_id, secret))


# --- holiday calendar ----------------------------------------------------------------------------------------


async def _calendar_page(
    request: Request, session: AsyncSession, year: int, form: FormView | None = None
) -> HTMLResponse:
    context = {
        "year": year,
        "days": await calendar.list_calendar_days(session, year),
        "county_holidays": await calendar.list_county_holidays(session, year),
        "warning": await calendar.year_warning(session, calendar.china_today()),
        "imported": request.query_params.get("imported"),
    }
    return render(request, "admin/calendar.html", context, form=form or FormView())


@router.get("/admin/calendar", response_class=HTMLResponse)
async def calendar_page(
    request: Request,
    session: SessionDep,
    principal: ConfigManage,
    year: Annotated[int | None, Query(ge=2004, le=2100)] = None,
) -> HTMLResponse:
    return await _calendar_page(request, session, year or calendar.china_today().year)


def _parse_holiday_lines(text: str) -> tuple[list[CountyHolidayCreate], list[str]]:
    """`2027-03-10,三月三,县政府〔2027〕3号` per line: every bad line is reported, by its number."""
    holidays: list[CountyHolidayCreate] = []
    problems: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        parts = [part.strip() for part in line.replace("，", ",").split(",", 2)]
        try:
            if len(parts) != 3:
                raise ValueError
            holidays.append(
                CountyHolidayCreate.model_validate({"date": parts[0], "name": parts[1], "source": parts[2]})
            )
        except (ValueError, ValidationError):
            problems.append(f"第{number}行格式应为“日期,名称,依据” / line {number}: expected date,name,source")
    if not holidays and not problems:
        problems.append("请至少填写一行 / enter at least one line")
    return holidays, problems


@router.post("/admin/calendar/county-holidays", response_class=HTMLResponse)
async def calendar_import(request: Request, session: SessionDep, principal: ConfigManage) -> Response:
    """Import county holidays from lines of text: all or nothing, audited one by one by the service."""
    form = await Form.read(request, ("lines",), verbatim=("lines",))  # as typed: problems are told by line number
    holidays, problems = _parse_holiday_lines(form.values["lines"])
    year = holidays[0].date.year if holidays else calendar.china_today().year
    if problems:
        return await _calendar_page(request, session, year, form.view({"lines": "；".join(problems)}))

    async def add_all() -> None:
        for holiday in holidays:
            await calendar.declare_county_holiday(session, holiday.date, holiday.name, holiday.source)

    added = await form.run(session, add_all, not_found=field_errors)
    if isinstance(added, FieldErrors):
        return await _calendar_page(request, session, year, form.view({"lines": "；".join(added.values())}))
    return RedirectResponse(f"/admin/calendar?year={year}&imported={len(holidays)}", status_code=303)


# --- case types and their deadlines ----------------------------------------------------------------------


@router.get("/admin/case-types", response_class=HTMLResponse)
async def case_type_list(request: Request, session: SessionDep, principal: ConfigManage) -> HTMLResponse:
    return render(request, "admin/case_types.html", {"types": await case_types.list_case_types(session)})


def _stages(case_type: CaseTypeRead) -> list[CaseStage]:
    """The stages that can have a deadline: every one but the closed end."""
    return [stage for stage in case_type.stages if stage != CaseStage.closed]


async def _case_type_page(
    request: Request, session: AsyncSession, code: str, form: FormView | None = None
) -> HTMLResponse:
    case_type = await case_types.get_case_type(session, code)
    context = {
        "type": case_type,
        "stages": _stages(case_type),
        "rules": {rule.stage: rule for rule in case_type.deadlines},
        "saved": request.query_params.get("saved"),
    }
    return render(request, "admin/case_type.html", context, form=form or FormView())


@router.get("/admin/case-types/{code}", response_class=HTMLResponse)
async def case_type_detail(request: Request, session: SessionDep, principal: ConfigManage, code: str) -> HTMLResponse:
    return await _case_type_page(request, session, code)


def _deadlines(form: Form, stages: Sequence[CaseStage]) -> tuple[list[dict[str, object]], dict[str, str]]:
    """The deadline rules typed on the page (a stage left empty has none), and the days that are no number."""
    rules: list[dict[str, object]] = []
    errors: dict[str, str] = {}
    for stage in stages:
        raw = form.values[f"days_{stage.value}"]
        if not raw:
            continue
        if not raw.isdigit():
            errors[f"days_{stage.value}"] = "应为整数 / a whole number"
            continue
        rules.append({"stage": stage.value, "working_days": int(raw), "source": form.values[f"source_{stage.value}"]})
    return rules, errors


ALERT_INPUTS = ("reminder_working_days", "escalation_township", "escalation_county")
# Where a refusal of the alert settings is shown: the reminder at its input, the escalation rungs at the first.
ALERT_ERRORS = {
    "alerts.reminder_working_days": "reminder_working_days",
    "alerts.escalation_working_days": "escalation_township",
}


def _alerts(form: Form) -> tuple[dict[str, object] | None, dict[str, str]]:
    """The alert settings typed on the page (None when they are the shipped default, which an override then
    follows), and the inputs that are no number."""
    errors = {name: "应为整数 / a whole number" for name in ALERT_INPUTS if not form.values[name].isdigit()}
    if errors:
        return None, errors
    reminder, township, county = (int(form.values[name]) for name in ALERT_INPUTS)
    if (reminder, (township, county)) == (DEFAULT_ALERTS.reminder_working_days, DEFAULT_ALERTS.escalation_working_days):
        return None, {}
    return {"reminder_working_days": reminder, "escalation_working_days": [township, county]}, {}


def _at_rule_inputs(errors: Mapping[str, str], rules: list[dict[str, object]], values: Mapping[str, str]) -> FormView:
    """deadlines.<i>.source → that rule's source input, deadlines.<i>.<anything else> → its days input, the alert
    settings at theirs; the rest belongs to the form."""
    shown: dict[str, str] = {}
    for key, message in errors.items():
        parts = key.split(".")
        name = key if key.startswith(("days_", *ALERT_INPUTS)) else ALERT_ERRORS.get(key, "form")
        if len(parts) > 1 and parts[0] == "deadlines" and parts[1].isdigit() and int(parts[1]) < len(rules):
            stage = rules[int(parts[1])]["stage"]
            name = f"source_{stage}" if parts[-1] == "source" else f"days_{stage}"
        shown.setdefault(name, message)
    return FormView(values=values, errors=shown, status_code=422)


@router.post("/admin/case-types/{code}", response_class=HTMLResponse)
async def case_type_configure(request: Request, session: SessionDep, principal: ConfigManage, code: str) -> Response:
    stages = _stages(await case_types.get_case_type(session, code))
    inputs = [f"{kind}_{stage.value}" for stage in stages for kind in ("days", "source")]
    form = await Form.read(request, ("enabled", "version", *inputs, *ALERT_INPUTS))
    rules, not_numbers = _deadlines(form, stages)
    alerts, alerts_not_numbers = _alerts(form)
    # The override's version the page read: a stale one is refused (409).
    version = int(form.values["version"]) if form.values["version"].isdigit() else None
    return await form.submit(
        session,
        CaseTypeOverrideUpdate,
        lambda update: case_types.configure_case_type(session, principal, code, update),
        data={"enabled": form.values["enabled"] == "1", "deadlines": rules, "alerts": alerts, "version": version},
        checks={**not_numbers, **alerts_not_numbers},
        depth=None,
        done=f"/admin/case-types/{code}?saved=1",
        again=lambda errors: _case_type_page(request, session, code, _at_rule_inputs(errors, rules, form.values)),
    )
