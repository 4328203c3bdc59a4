"""Complaint pages (投诉举报): the register (kind, flagged; paged), recording one as it came in (hotline 12356,
mailbox, letter, visit, online; named or anonymous), one complaint with its handling case and the reply form. Same
services and checks as /api/v1/complaints: the complainant is 「保密」 to everyone but the handling officer and the
county supervisor, here as there."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from backend.authz.principal import Principal
from backend.authz.vocabulary import Action
from backend.complaints import service
from backend.complaints.auth import ComplaintsRead, ComplaintsWrite
from backend.complaints.practices import PRACTICES
from backend.complaints.repository import ComplaintFilters
from backend.complaints.schemas import ComplaintCreate, ComplaintReply
from backend.core.clock import CHINA
from backend.core.pagination import PageParams
from backend.db.session import SessionDep
from backend.models import ComplaintKind
from backend.org import service as org
from frontend.forms import Form
from frontend.pages.common import page_count
from frontend.rendering import render

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 25
FIELDS = ("kind", "channel", "org_unit_code", "received_at", "complainant_name", "complainant_contact", "summary")
TEXT_FIELDS = ("content",)
REPLY_FIELDS = ("version", "outcome", "reply", "verified")


async def _units(session: AsyncSession, principal: Principal) -> list[tuple[str, str]]:
    units = await org.list_units_in_scopes(session, principal.scopes_for(Action.case_write))
    return [(unit.code, f"{unit.name}（{unit.code}）") for unit in units if unit.active]


@router.get("/complaints", response_class=HTMLResponse)
async def complaint_list(
    request: Request,
    session: SessionDep,
    principal: ComplaintsRead,
    kind: str = "",
    flagged: str = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> HTMLResponse:
    filters = ComplaintFilters(
        principal.scopes_for(Action.case_read),
        kind=ComplaintKind(kind) if kind in ComplaintKind.__members__ else None,
        flagged=True if flagged == "1" else None,
    )
    params = PageParams(page=page, size=PAGE_SIZE)
    complaints, total = await service.complaint_register(
        session, principal, filters, offset=params.offset, limit=params.size
    )
    return render(
        request,
        "complaints/list.html",
        {
            "complaints": complaints,
            "total": total,
            "page": page,
            "pages": page_count(total, PAGE_SIZE),
            "params": {"kind": kind, "flagged": flagged},
            "can_write": principal.holds(Action.case_write),
        },
    )


async def _form(
    request: Request,
    session: AsyncSession,
    principal: Principal,
    *,
    values: dict[str, object] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    return render(
        request,
        "complaints/form.html",
        {
            "values": values or {},
            "errors": errors or {},
            "units": await _units(session, principal),
            "practices": [(code, label) for code, (label, _) in PRACTICES.items()],
        },
        status_code=status_code,
    )


def _china_time(typed: str) -> str:
    """A time typed on the page is China time (an unreadable one goes on to be refused at its field)."""
    try:
        return datetime.fromisoformat(typed).replace(tzinfo=CHINA).isoformat()
    except ValueError:
        return typed


@router.get("/complaints/new", response_class=HTMLResponse)
async def complaint_form(request: Request, session: SessionDep, principal: ComplaintsWrite) -> HTMLResponse:
    return await _form(request, session, principal)


@router.post("/complaints/new", response_class=HTMLResponse)
async def record(request: Request, session: SessionDep, principal: ComplaintsWrite) -> Response:
    form = await Form.read(request, (*FIELDS, *TEXT_FIELDS, "anonymous"), lists=("practices",))
    anonymous = form.values["anonymous"] == "on"
    local = {"received_at": _china_time(form.values["received_at"])} if form.values["received_at"] else {}
    return await form.submit(
        session,
        ComplaintCreate,
        lambda body: service.record_complaint(session, principal, body),
        data=form.given(*FIELDS, *TEXT_FIELDS, "practices", anonymous=anonymous, **local),
        not_found=lambda _: {"org_unit_code": "请选择您管理范围内的单位 / choose a unit within your reach"},
        done=lambda complaint: f"/complaints/{complaint.id}?done=recorded",
        again=lambda errors: _form(request, session, principal, values=form.values, errors=errors, status_code=422),
    )


async def _detail(
    request: Request,
    session: AsyncSession,
    principal: Principal,
    complaint_id: uuid.UUID,
    *,
    values: dict[str, object] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    complaint = await service.read_complaint(session, principal, complaint_id)
    return render(
        request,
        "complaints/detail.html",
        {
            "complaint": complaint,
            "practice_labels": {code: label for code, (label, _) in PRACTICES.items()},
            "can_write": principal.can(Action.case_write, complaint.org_unit_code),
            "values": values or {},
            "errors": errors or {},
        },
        status_code=status_code,
    )


@router.get("/complaints/{complaint_id}", response_class=HTMLResponse)
async def complaint_detail(
    request: Request, session: SessionDep, principal: ComplaintsRead, complaint_id: uuid.UUID
) -> HTMLResponse:
    return await _detail(request, session, principal, complaint_id)


@router.post("/complaints/{complaint_id}/reply", response_class=HTMLResponse)
async def reply(request: Request, session: SessionDep, principal: ComplaintsWrite, complaint_id: uuid.UUID) -> Response:
    await service.get_complaint(session, principal, complaint_id, Action.case_write)  # 404 first
    form = await Form.read(request, REPLY_FIELDS)
    verified = {"yes": True, "no": False}.get(form.values["verified"])
    return await form.submit(
        session,
        ComplaintReply,
        lambda body: service.reply_to_complaint(session, principal, complaint_id, body),
        data=form.given("version", "outcome", "reply", verified=verified),
        done=f"/complaints/{complaint_id}?done=replied",
        again=lambda errors: _detail(
            request, session, principal, complaint_id, values=form.values, errors=errors, status_code=422
        ),
    )
