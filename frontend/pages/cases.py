"""Case pages: the list (filters, search by name / pinyin / ID number, sort, bulk reassign) and the detail
(person, stage and deadline countdown, actions, timeline). Same services and checks as /api/v1/cases."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.authz.principal import Principal
from backend.authz.service import audit_break_glass_listing
from backend.authz.vocabulary import Action
from backend.cases import service
from backend.cases.auth import CasesAssign, CasesRead, CasesWrite
from backend.cases.repository import SORTS, CaseFilters
from backend.cases.schemas import AssignRequest, CaseActionRequest
from backend.cases.timeline import case_timeline
from backend.core.clock import utc_now
from backend.core.errors import DomainError
from backend.core.temporal import temporal_client
from backend.db.session import SessionDep
from backend.db.tenancy import current_tenant_id
from backend.models import CaseStage, CaseStatus, Person
from backend.persons import service as persons
from backend.persons.names import name_search_keys
from backend.persons.resident_id import normalise_resident_id
from frontend.forms import field_errors
from frontend.pages.case_panels import case_panels
from frontend.pages.common import page_count, page_number, users_by_id, working_days_left
from frontend.rendering import render
from workflows.cases.types import case_workflow_id_for

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 25
_HAN = re.compile(r"[\u3400-\u9fff]")
_ID_LIKE = re.compile(r"^[0-9]{15,17}[0-9Xx]?$")


async def _person_ids_for_resident_id(session: AsyncSession, raw: str) -> list[uuid.UUID]:
    digest = persons.resident_id_digest(normalise_resident_id(raw))
    rows = await session.execute(
        select(Person.id).where(Person.tenant_id == current_tenant_id(session), Person.resident_id_hash == digest)
    )
    return list(rows.scalars().all())


async def _filters(session: AsyncSession, principal: Principal, params: dict[str, str]) -> CaseFilters:
    """The list's query string as CaseFilters; unknown values are ignored rather than refused (a page, not an
    API: a stale bookmark still shows the list)."""
    q = params.get("q", "").strip()[:50]
    name_query = pinyin_query = None
    person_ids = None
    if q and _ID_LIKE.match(q):
        person_ids = await _person_ids_for_resident_id(session, q)
    elif q and _HAN.search(q):
        name_query = q
    elif q:
        pinyin_query = name_search_keys(q).pinyin or None
    assignee = params.get("assignee", "")
    assignee_id = uuid.UUID(principal.id) if assignee == "me" and principal.kind == "user" else None
    stage = params.get("stage", "")
    case_status = params.get("status", "")
    due = params.get("due", "")
    org_unit = params.get("org_unit", "")
    now = utc_now()
    return CaseFilters(
        roots=principal.scopes_for(Action.case_read),
        stage=CaseStage(stage) if stage in CaseStage.__members__ else None,
        status=CaseStatus(case_status) if case_status in CaseStatus.__members__ else None,
        org_unit=org_unit if org_unit.isdigit() and len(org_unit) in (6, 9, 12) else None,
        assignee_id=assignee_id,
        unassigned=assignee == "none",
        overdue=True if due == "overdue" else None,
        open_only=params.get("open", "1") == "1",
        due_before=now + timedelta(days=3) if due == "soon" else None,
        name_query=name_query,
        pinyin_query=pinyin_query,
        person_ids=person_ids,
        sort=params.get("sort", "due_at") if params.get("sort") in SORTS else "due_at",
    )


async def _list_page(
    request: Request,
    session: AsyncSession,
    principal: Principal,
    *,
    errors: dict[str, str] | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    params = dict(request.query_params)
    filters = await _filters(session, principal, params)
    page = page_number(params.get("page"))
    cases, total = await service.list_cases(session, filters, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE)
    await audit_break_glass_listing(
        session, principal, Action.case_read, entity_type="case", unit_codes={case.org_unit_code for case in cases}
    )
    users = await users_by_id(session, principal, Action.case_read)
    can_assign = principal.holds(Action.case_assign)
    assignees = []
    if can_assign:
        roots = principal.scopes_for(Action.case_assign)
        assignees = [
            user for user in users.values() if user.active and any(user.org_unit_code.startswith(r) for r in roots)
        ]
        assignees.sort(key=lambda user: user.username)
    return render(
        request,
        "cases/list.html",
        {
            "cases": cases,
            "total": total,
            "page": page,
            "pages": page_count(total, PAGE_SIZE),
            "params": params,
            "users": users,
            "assignee_options": [(str(user.id), f"{user.display_name}（{user.username}）") for user in assignees],
            "can_assign": can_assign,
            "can_open": principal.holds(Action.case_write),
            "now": utc_now(),
            "errors": errors or {},
            "notice": notice or (params["reassigned"] if params.get("reassigned", "").isdigit() else None),
        },
        status_code=status_code,
    )


@router.get("/cases", response_class=HTMLResponse)
async def case_list(request: Request, session: SessionDep, principal: CasesRead) -> HTMLResponse:
    return await _list_page(request, session, principal)


@router.post("/cases/bulk-reassign", response_class=HTMLResponse)
async def bulk_reassign(request: Request, session: SessionDep, principal: CasesAssign) -> Response:
    form = await request.form()
    case_ids: list[uuid.UUID] = []
    errors: dict[str, str] = {}
    for value in form.getlist("case_id"):
        try:
            case_ids.append(uuid.UUID(str(value)))
        except ValueError:
            errors["case_id"] = "所选案件无效 / invalid case selection"
    try:
        assignee_id = uuid.UUID(str(form.get("assignee_id", "")))
    except ValueError:
        errors["assignee_id"] = "请选择承办人 / choose an assignee"
    if not case_ids:
        errors.setdefault("case_id", "请至少选择一个案件 / select at least one case")
    if errors:
        return await _list_page(request, session, principal, errors=errors, status_code=422)
    try:
        async with session.begin_nested():
            count = await service.bulk_reassign(session, principal, case_ids, assignee_id)
    except DomainError as error:
        return await _list_page(request, session, principal, errors=field_errors(error), status_code=422)
    # Post/redirect/get: reloading the list afterwards does not send the reassignment again.
    query = urlencode({**dict(request.query_params), "reassigned": count})
    return RedirectResponse(f"/cases?{query}", status_code=303)


async def detail_page(
    request: Request,
    session: AsyncSession,
    principal: Principal,
    case_id: uuid.UUID,
    *,
    errors: dict[str, str] | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    case = await service.get_case(session, principal, case_id, Action.case_read)
    subjects, links, alerts = await service.subjects_links_and_alerts(session, case)
    people: list[Any] = []
    for subject in subjects:
        try:
            person = await persons.person_in_reach(session, principal, subject.person_id, Action.person_read)
        except DomainError:
            continue  # a subject outside the caller's reach is simply not shown
        people.append((subject.part, await persons.person_read(session, principal, person)))
    users = await users_by_id(session, principal, Action.case_read)
    panels = await case_panels(session, principal, case)
    timeline = await case_timeline(session, await temporal_client(request), case, case_workflow_id_for(case))
    return render(
        request,
        "cases/detail.html",
        {
            "case": case,
            "people": people,
            "links": links,
            "assignee": users.get(case.assignee_id) if case.assignee_id else None,
            "days_left": await working_days_left(session, case.due_at),
            "timeline": timeline,
            "can_write": principal.can(Action.case_write, case.org_unit_code),
            "can_assign": principal.can(Action.case_assign, case.org_unit_code),
            "assignee_options": [
                (str(user.id), f"{user.display_name}（{user.username}）")
                for user in sorted(users.values(), key=lambda user: user.username)
                if user.active and case.org_unit_code.startswith(user.org_unit_code)
            ],
            "alerts": alerts,
            **panels,
            "errors": errors or {},
            "notice": notice,
        },
        status_code=status_code,
    )


@router.get("/cases/{case_id}", response_class=HTMLResponse)
async def case_detail(request: Request, session: SessionDep, principal: CasesRead, case_id: uuid.UUID) -> HTMLResponse:
    return await detail_page(request, session, principal, case_id)


@router.post("/cases/{case_id}/actions", response_class=HTMLResponse)
async def case_action(
    request: Request,
    session: SessionDep,
    principal: CasesWrite,
    case_id: uuid.UUID,
    action: Annotated[str, Form()] = "",
    version: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
    outcome: Annotated[str, Form()] = "",
    extension_working_days: Annotated[str, Form()] = "",
) -> Response:
    case = await service.get_case(session, principal, case_id, Action.case_write)
    try:
        body = CaseActionRequest.model_validate(
            {
                "version": version,
                "action": action,
                "reason": reason or None,
                "outcome": outcome or None,
                "extension_working_days": extension_working_days or None,
            }
        )
    except ValidationError as invalid:
        errors = {str(error["loc"][-1]): "输入无效 / invalid value" for error in invalid.errors()}
        return await detail_page(request, session, principal, case_id, errors=errors, status_code=422)
    try:
        async with session.begin_nested():
            await service.request_action(session, principal, case, body)
    except DomainError as error:
        return await detail_page(request, session, principal, case_id, errors=field_errors(error), status_code=422)
    return RedirectResponse(f"/cases/{case.id}?submitted=1", status_code=303)


@router.post("/cases/{case_id}/assign", response_class=HTMLResponse)
async def case_assign(
    request: Request,
    session: SessionDep,
    principal: CasesAssign,
    case_id: uuid.UUID,
    assignee_id: Annotated[str, Form()] = "",
    version: Annotated[str, Form()] = "",
) -> Response:
    """Assign the case to someone who may work on it, or (empty choice) return it to the unit's queue."""
    case = await service.get_case(session, principal, case_id, Action.case_assign)
    try:
        body = AssignRequest.model_validate({"assignee_id": assignee_id or None, "version": version or None})
    except ValidationError:
        errors = {"assignee_id": "请选择承办人 / choose an assignee"}
        return await detail_page(request, session, principal, case_id, errors=errors, status_code=422)
    try:
        async with session.begin_nested():
            await service.assign_case(session, case, body)
    except DomainError as error:
        return await detail_page(request, session, principal, case_id, errors=field_errors(error), status_code=422)
    return RedirectResponse(f"/cases/{case.id}?assigned=1", status_code=303)


@router.post("/cases/{case_id}/claim", response_class=HTMLResponse)
async def case_claim(request: Request, session: SessionDep, principal: CasesWrite, case_id: uuid.UUID) -> Response:
    case = await service.get_case(session, principal, case_id, Action.case_write)
    try:
        async with session.begin_nested():
            await service.claim_case(session, principal, case)
    except DomainError as error:
        return await detail_page(request, session, principal, case_id, errors=field_errors(error), status_code=422)
    return RedirectResponse(f"/cases/{case.id}", status_code=303)
