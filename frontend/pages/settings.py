"""County admin configuration pages: department API clients, the holiday calendar (county holidays, imported
as lines), and the case types' deadlines. Same services as /api/v1/admin/api-clients, /api/v1/calendar and
/api/v1/case-types (validated and audited there)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from backend.authz.vocabulary import ClientScope
from backend.calendar import service as calendar
from backend.calendar.auth import ConfigManage
from backend.calendar.schemas import CountyHolidayCreate
from backend.case_types import service as case_types
from backend.case_types.schemas import CaseTypeOverrideUpdate, DeadlineRuleBody
from backend.clients import service as clients
from backend.clients.auth import ClientsManage
from backend.clients.schemas import ApiClientCreate, Department
from backend.core.errors import DomainError
from backend.db.session import SessionDep
from backend.models import CaseStage
from frontend.forms import field_errors
from frontend.rendering import render

router = APIRouter(include_in_schema=False)


# --- API clients ---------------------------------------------------------------------------------------------


async def _clients_page(
    request: Request,
    session: AsyncSession,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, object] | None = None,
    secret: tuple[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    return render(
        request,
        "admin/clients.html",
        {
            "clients": await clients.list_clients(session),
            "departments": [department.value for department in Department],
            "scopes": [scope.value for scope in ClientScope],
            "errors": errors or {},
            "values": values or {},
            "secret": secret,
        },
        status_code=status_code,
    )


@router.get("/admin/clients", response_class=HTMLResponse)
async def client_list(request: Request, session: SessionDep, principal: ClientsManage) -> HTMLResponse:
    return await _clients_page(request, session)


@router.post("/admin/clients", response_class=HTMLResponse)
async def client_create(request: Request, session: SessionDep, principal: ClientsManage) -> HTMLResponse:
    form = await request.form()
    values: dict[str, object] = {
        "name": str(form.get("name", "")).strip(),
        "department": str(form.get("department", "")),
        "scopes": [str(scope) for scope in form.getlist("scopes")],
        "webhook_url": str(form.get("webhook_url", "")).strip() or None,
    }
    try:
        body = ApiClientCreate.model_validate(values)
    except ValidationError as invalid:
        errors = {
            str(error["loc"][0]): "必填 / required"
            if error["type"] in ("missing", "too_short", "string_too_short")
            else "格式不正确 / invalid format"
            for error in invalid.errors()
        }
        return await _clients_page(request, session, errors=errors, values=values, status_code=422)
    try:
        async with session.begin_nested():
            created, secret = await clients.create_client(session, body, tenant_code=principal.tenant_code)
    except DomainError as error:
        return await _clients_page(request, session, errors=field_errors(error), values=values, status_code=422)
    # The secret is shown this once, on this response; it is stored only as a hash.
    return await _clients_page(request, session, secret=(created.client_id, secret), status_code=201)


# --- holiday calendar ----------------------------------------------------------------------------------------


async def _calendar_page(
    request: Request,
    session: AsyncSession,
    year: int,
    *,
    errors: dict[str, str] | None = None,
    lines: str = "",
    status_code: int = 200,
) -> HTMLResponse:
    return render(
        request,
        "admin/calendar.html",
        {
            "year": year,
            "days": await calendar.list_calendar_days(session, year),
            "county_holidays": await calendar.list_county_holidays(session, year),
            "warning": await calendar.year_warning(session, calendar.china_today()),
            "errors": errors or {},
            "lines": lines,
            "imported": request.query_params.get("imported"),
        },
        status_code=status_code,
    )


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
async def calendar_import(
    request: Request, session: SessionDep, principal: ConfigManage, lines: Annotated[str, Form()] = ""
) -> Response:
    """Import county holidays from lines of text: all or nothing, audited one by one by the service."""
    holidays, problems = _parse_holiday_lines(lines)
    year = holidays[0].date.year if holidays else calendar.china_today().year
    if problems:
        return await _calendar_page(
            request, session, year, errors={"lines": "；".join(problems)}, lines=lines, status_code=422
        )
    try:
        async with session.begin_nested():
            for holiday in holidays:
                await calendar.add_county_holiday(session, holiday.date, holiday.name, holiday.source)
    except DomainError as error:
        message = "；".join(field.msg for field in error.fields) or error.detail
        return await _calendar_page(request, session, year, errors={"lines": message}, lines=lines, status_code=422)
    return RedirectResponse(f"/admin/calendar?year={year}&imported={len(holidays)}", status_code=303)


# --- case types and their deadlines ----------------------------------------------------------------------


@router.get("/admin/case-types", response_class=HTMLResponse)
async def case_type_list(request: Request, session: SessionDep, principal: ConfigManage) -> HTMLResponse:
    return render(request, "admin/case_types.html", {"types": await case_types.list_case_types(session)})


async def _case_type_page(
    request: Request,
    session: AsyncSession,
    code: str,
    *,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    case_type = await case_types.get_case_type(session, code)
    rules = {rule.stage: rule for rule in case_type.deadlines}
    return render(
        request,
        "admin/case_type.html",
        {
            "type": case_type,
            "stages": [stage for stage in case_type.stages if stage != CaseStage.closed],
            "rules": rules,
            "errors": errors or {},
            "saved": request.query_params.get("saved"),
        },
        status_code=status_code,
    )


@router.get("/admin/case-types/{code}", response_class=HTMLResponse)
async def case_type_detail(request: Request, session: SessionDep, principal: ConfigManage, code: str) -> HTMLResponse:
    return await _case_type_page(request, session, code)


def _deadlines(form: dict[str, str], stages: Sequence[CaseStage]) -> tuple[list[DeadlineRuleBody], dict[str, str]]:
    rules: list[DeadlineRuleBody] = []
    errors: dict[str, str] = {}
    for stage in stages:
        raw = form.get(f"days_{stage.value}", "").strip()
        if not raw:
            continue
        if not raw.isdigit():
            errors[f"days_{stage.value}"] = "应为整数 / a whole number"
            continue
        rules.append(
            DeadlineRuleBody(stage=stage, working_days=int(raw), source=form.get(f"source_{stage.value}", "").strip())
        )
    return rules, errors


def _rule_input(loc: tuple[str | int, ...], rules: list[DeadlineRuleBody]) -> str:
    """deadlines.<i>.working_days → the days input of that rule's stage; anything else belongs to the form."""
    parts = [str(part) for part in loc]
    if "deadlines" in parts:
        position = parts.index("deadlines") + 1
        if position < len(parts) and parts[position].isdigit() and int(parts[position]) < len(rules):
            return f"days_{rules[int(parts[position])].stage.value}"
    return "form"


@router.post("/admin/case-types/{code}", response_class=HTMLResponse)
async def case_type_configure(request: Request, session: SessionDep, principal: ConfigManage, code: str) -> Response:
    case_type = await case_types.get_case_type(session, code)
    form = {key: str(value) for key, value in (await request.form()).items()}
    stages = [stage for stage in case_type.stages if stage != CaseStage.closed]
    rules, errors = _deadlines(form, stages)
    if errors:
        return await _case_type_page(request, session, code, errors=errors, status_code=422)
    version = form.get("version", "")
    update = CaseTypeOverrideUpdate(
        enabled=form.get("enabled") == "1",
        deadlines=rules,
        version=int(version) if version.isdigit() else None,
    )
    try:
        async with session.begin_nested():
            await case_types.configure_case_type(session, principal, code, update)
    except DomainError as error:
        errors = {}
        for field in error.fields:
            errors.setdefault(_rule_input(field.loc, rules), field.msg)
        errors = errors or {"form": error.detail}
        return await _case_type_page(request, session, code, errors=errors, status_code=422)
    return RedirectResponse(f"/admin/case-types/{code}?saved=1", status_code=303)
