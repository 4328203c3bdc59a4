"""Case pages: the list (filters, search by name / pinyin / ID number, sort, bulk reassign) and the actions on one
case (submit an action, assign, claim); the case page itself is frontend/pages/case_page.py. Same services and
checks as /api/v1/cases."""

from __future__ import annotations

import re
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from backend.authz.principal import Principal
from backend.authz.vocabulary import Action
from backend.cases import service, views
from backend.cases.auth import CasesAssign, CasesRead, CasesWrite
from backend.cases.repository import SORTS, CaseFilters
from backend.cases.schemas import AssignRequest, BulkReassign, CaseActionRequest
from backend.core.clock import utc_now
from backend.db.session import SessionDep
from backend.models import Case, CaseStage, CaseStatus
from frontend.forms import FieldErrors, Form
from frontend.pages.case_page import detail_page
from frontend.pages.common import case_type_labels, page_count, page_number, unit_names, users_by_id
from frontend.rendering import render
from workflows.cases.types import CaseAction

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 25
_ID_LIKE = re.compile(r"^[0-9]{15,17}[0-9Xx]?$")
INVALID_VALUE = "输入无效 / invalid value"
CHOOSE_ASSIGNEE = "请选择承办人 / choose an assignee"


def _filters(principal: Principal, params: dict[str, str]) -> CaseFilters:
    """The list's query string as CaseFilters; unknown values are ignored rather than refused (a page, not an
    API: a stale bookmark still shows the list)."""
    q = params.get("q", "").strip()[:50]
    by_resident_id = bool(q and _ID_LIKE.match(q))
    name_query, pinyin_query = views.name_terms(q) if q and not by_resident_id else (None, None)
    assignee = params.get("assignee", "")
    stage = params.get("stage", "")
    case_status = params.get("status", "")
    due = params.get("due", "")
    org_unit = params.get("org_unit", "")
    unit = params.get("unit", "")
    soon = utc_now() + views.DUE_SOON
    return CaseFilters(
        roots=principal.scopes_for(Action.case_read),
        stage=CaseStage(stage) if stage in CaseStage.__members__ else None,
        status=CaseStatus(case_status) if case_status in CaseStatus.__members__ else None,
        org_unit=org_unit if org_unit.isdigit() and len(org_unit) in (6, 9, 12) else None,
        unit_only=unit if unit.isdigit() and len(unit) in (6, 9, 12) else None,
        assignee_id=uuid.UUID(principal.id) if assignee == "me" and principal.kind == "user" else None,
        unassigned=assignee == "none",
        overdue=True if due == "overdue" else None,
        open_only=params.get("open", "1") == "1",
        # The dashboard's 三日内到期: due within three days and not overdue (the same condition as its figure).
        due_soon_before=soon if due == "soon" else None,
        name_query=name_query,
        pinyin_query=pinyin_query,
        subject_resident_id_hash=views.resident_id_hash(q) if by_resident_id else None,
        sort=params.get("sort", "due_at") if params.get("sort") in SORTS else "due_at",
    )


async def _list_page(
    request: Request,
    session: AsyncSession,
    principal: Principal,
    *,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    params = dict(request.query_params)
    page = page_number(params.get("page"))
    cases, total = await views.list_cases(
        session, principal, _filters(principal, params), offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE
    )
    users = await users_by_id(session, principal, Action.case_read)
    can_assign = principal.holds(Action.case_assign)
    assignees = await views.assignees_under(session, principal.scopes_for(Action.case_assign)) if can_assign else []
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
            "unit_names": await unit_names(session),
            "type_labels": await case_type_labels(session),
            "assignee_options": [(str(user.id), f"{user.display_name}（{user.username}）") for user in assignees],
            "can_assign": can_assign,
            "can_open": principal.holds(Action.case_write),
            "now": utc_now(),
            "errors": errors or {},
            "notice": params["reassigned"] if params.get("reassigned", "").isdigit() else None,
        },
        status_code=status_code,
    )


@router.get("/cases", response_class=HTMLResponse)
async def case_list(request: Request, session: SessionDep, principal: CasesRead) -> HTMLResponse:
    return await _list_page(request, session, principal)


def _case_ids(values: list[str]) -> tuple[list[uuid.UUID], dict[str, str]]:
    """The ticked cases, and the selection's refusal (none ticked, or a value that is no case id)."""
    case_ids: list[uuid.UUID] = []
    for value in values:
        try:
            case_ids.append(uuid.UUID(value))
        except ValueError:
            return case_ids, {"case_id": "所选案件无效 / invalid case selection"}
    return case_ids, {} if case_ids else {"case_id": "请至少选择一个案件 / select at least one case"}


@router.post("/cases/bulk-reassign", response_class=HTMLResponse)
async def bulk_reassign(request: Request, session: SessionDep, principal: CasesAssign) -> Response:
    posted = await request.form()
    case_ids, refused = _case_ids([str(value) for value in posted.getlist("case_id")])
    form = Form({"assignee_id": str(posted.get("assignee_id", "")).strip()}, messages={"assignee_id": CHOOSE_ASSIGNEE})

    def done(count: int) -> str:
        # Post/redirect/get: reloading the list afterwards does not send the reassignment again.
        return f"/cases?{urlencode({**dict(request.query_params), 'reassigned': count})}"

    return await form.submit(
        session,
        BulkReassign,
        lambda body: service.bulk_reassign(session, principal, body.case_ids, body.assignee_id),
        data=form.given(case_ids=case_ids or [uuid.UUID(int=0)]),
        checks=refused,
        done=done,
        again=lambda errors: _list_page(request, session, principal, errors=errors, status_code=422),
    )


def _again(
    request: Request, session: AsyncSession, principal: Principal, case_id: uuid.UUID
) -> Callable[[dict[str, str]], Awaitable[HTMLResponse]]:
    """The case page again with a refused form's errors."""
    return lambda errors: detail_page(request, session, principal, case_id, errors=errors, status_code=422)


@dataclass(frozen=True, slots=True)
class CaseForm:
    """A form of the case page: the permission it needs on the case, its schema and inputs, the query string of the
    page it returns to, the message at a malformed input, and the input whose empty choice means null."""

    action: Action
    schema: type[BaseModel]
    names: tuple[str, ...]
    done: str
    message: str
    nullable: str | None = None


ACTION_INPUTS = ("action", "version", "reason", "outcome", "extension_working_days")
ACTION_FORM = CaseForm(Action.case_write, CaseActionRequest, ACTION_INPUTS, "action={result}", INVALID_VALUE)
SIGN_INPUTS = ("version", "step", "attest", "note")
SIGN_FORM = CaseForm(Action.case_write, CaseActionRequest, SIGN_INPUTS, "signed=1", INVALID_VALUE)
ASSIGN_INPUTS = ("assignee_id", "version")
ASSIGN_FORM = CaseForm(Action.case_assign, AssignRequest, ASSIGN_INPUTS, "assigned=1", CHOOSE_ASSIGNEE, "assignee_id")


async def _case_form(
    request: Request,
    session: AsyncSession,
    principal: Principal,
    case_id: uuid.UUID,
    case_form: CaseForm,
    perform: Callable[[Case, Any], Awaitable[object]],
) -> Response:
    """The case if the caller may perform the form's action on it (404 otherwise), then `perform` with the validated
    body; the case page again with the form's message at a malformed input."""
    case = await service.get_case(session, principal, case_id, case_form.action)
    form = await Form.read(request, case_form.names)
    nullable = case_form.nullable
    data = form.given(**{nullable: form.values[nullable] or None}) if nullable else None
    if case_form is SIGN_FORM:
        data = form.given(action=CaseAction.sign.value, attest=form.values["attest"] == "on")
    return await form.submit(
        session,
        case_form.schema,
        lambda body: perform(case, body),
        data=data,
        # The case page again; after an action, following what the workflow decides (`action=<request id>`).
        done=lambda result: f"/cases/{case.id}?{case_form.done.format(result=result)}",
        again=_again(request, session, principal, case_id),
        missing=case_form.message,
        invalid_format=case_form.message,
    )


@router.post("/cases/{case_id}/actions", response_class=HTMLResponse)
async def case_action(request: Request, session: SessionDep, principal: CasesWrite, case_id: uuid.UUID) -> Response:
    """Submit a human action (advance, request materials, extend, refuse, close) for the case workflow."""
    perform = partial(service.request_action, session, principal)
    return await _case_form(request, session, principal, case_id, ACTION_FORM, perform)


@router.post("/cases/{case_id}/sign", response_class=HTMLResponse)
async def case_sign(request: Request, session: SessionDep, principal: CasesWrite, case_id: uuid.UUID) -> Response:
    """Sign the step of the case's maker-checker chain it waits for (谁调查、谁负责;谁审核、谁负责;谁签字、谁负责)."""
    perform = partial(service.request_action, session, principal)
    return await _case_form(request, session, principal, case_id, SIGN_FORM, perform)


@router.post("/cases/{case_id}/assign", response_class=HTMLResponse)
async def case_assign(request: Request, session: SessionDep, principal: CasesAssign, case_id: uuid.UUID) -> Response:
    """Assign the case to someone who may work on it, or (empty choice) return it to the unit's queue."""
    return await _case_form(request, session, principal, case_id, ASSIGN_FORM, partial(service.assign_case, session))


@router.post("/cases/{case_id}/claim", response_class=HTMLResponse)
async def case_claim(request: Request, session: SessionDep, principal: CasesWrite, case_id: uuid.UUID) -> Response:
    case = await service.get_case(session, principal, case_id, Action.case_write)
    claimed = await Form({}).run(session, lambda: service.claim_case(session, principal, case))
    if isinstance(claimed, FieldErrors):
        return await _again(request, session, principal, case_id)(claimed)
    return RedirectResponse(f"/cases/{case.id}", status_code=303)


@router.get("/cases/{case_id}/actions/{request_id}", response_class=HTMLResponse)
async def action_status(
    request: Request, session: SessionDep, principal: CasesRead, case_id: uuid.UUID, request_id: uuid.UUID
) -> Response:
    """What became of an action (polled by the case page while the workflow decides): the status panel alone; once
    decided (done or refused), the page is reloaded (`HX-Refresh`) to show the case as it now is, with the decision.
    Without HTMX: the case page."""
    if request.headers.get("HX-Request") != "true":
        return RedirectResponse(f"/cases/{case_id}?action={request_id}", status_code=303)
    case = await service.get_case(session, principal, case_id, Action.case_read)
    outcome = await views.action_outcome(session, case, request_id)
    headers = {"HX-Refresh": "true"} if outcome is not None and outcome.status != "pending" else None
    context = {"case": case, "action_id": request_id, "outcome": outcome}
    return render(request, "cases/_action_status.html", context, headers=headers)


@router.get("/cases/{case_id}", response_class=HTMLResponse)
async def case_detail(request: Request, session: SessionDep, principal: CasesRead, case_id: uuid.UUID) -> HTMLResponse:
    return await detail_page(request, session, principal, case_id)
