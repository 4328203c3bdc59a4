"""Entrustment pages (县内委托, P21): the incoming hand-overs of the caller's townships (accept, or return with a
reason, in place), and the case page's form that entrusts a case. Same services and checks as
/api/v1/entrustments: only the receiving township decides, only the case's township sends."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from backend.authz.principal import Principal
from backend.authz.vocabulary import Action
from backend.cases import service as cases
from backend.core.pagination import PageParams
from backend.db.session import SessionDep
from backend.entrustments import service
from backend.entrustments.auth import EntrustmentWrite
from backend.entrustments.schemas import EntrustmentCreate, EntrustmentDecision, EntrustmentReturn
from frontend.forms import Form
from frontend.pages.case_page import detail_page
from frontend.pages.common import page_count, unit_names
from frontend.rendering import render

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 25
ENTRUST_FIELDS = ("version", "to_unit_code", "reason", "include_person")


async def _incoming_page(
    request: Request,
    session: AsyncSession,
    principal: Principal,
    *,
    page: int = 1,
    failed: uuid.UUID | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    params = PageParams(page=page, size=PAGE_SIZE)
    rows, total = await service.incoming(session, principal, pending_only=False, offset=params.offset, limit=PAGE_SIZE)
    return render(
        request,
        "entrustments/incoming.html",
        {
            "entrustments": rows,
            "total": total,
            "page": page,
            "pages": page_count(total, PAGE_SIZE),
            "params": {},
            "unit_names": await unit_names(session),
            "failed": failed,
            "errors": errors or {},
        },
        status_code=status_code,
        fragment="incoming",
    )


@router.get("/entrustments", response_class=HTMLResponse)
async def incoming(
    request: Request,
    session: SessionDep,
    principal: EntrustmentWrite,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> HTMLResponse:
    """The hand-overs to the caller's townships, pending first."""
    return await _incoming_page(request, session, principal, page=page)


@router.post("/entrustments/{entrustment_id}/accept", response_class=HTMLResponse)
async def accept(
    request: Request, session: SessionDep, principal: EntrustmentWrite, entrustment_id: uuid.UUID
) -> Response:
    await service.get_entrustment(session, principal, entrustment_id)  # 404 first
    form = await Form.read(request, ("version",))
    return await form.submit(
        session,
        EntrustmentDecision,
        lambda body: service.accept_entrustment(session, principal, entrustment_id, body),
        done="/entrustments?done=accepted",
        again=lambda errors: _incoming_page(
            request, session, principal, failed=entrustment_id, errors=errors, status_code=422
        ),
    )


@router.post("/entrustments/{entrustment_id}/return", response_class=HTMLResponse)
async def return_(
    request: Request, session: SessionDep, principal: EntrustmentWrite, entrustment_id: uuid.UUID
) -> Response:
    await service.get_entrustment(session, principal, entrustment_id)  # 404 first
    form = await Form.read(request, ("version", "reason"))
    return await form.submit(
        session,
        EntrustmentReturn,
        lambda body: service.return_entrustment(session, principal, entrustment_id, body),
        done="/entrustments?done=returned",
        again=lambda errors: _incoming_page(
            request, session, principal, failed=entrustment_id, errors=errors, status_code=422
        ),
    )


@router.post("/cases/{case_id}/entrust", response_class=HTMLResponse)
async def entrust(request: Request, session: SessionDep, principal: EntrustmentWrite, case_id: uuid.UUID) -> Response:
    """委托 from the case page: the case page again with the refusal next to its field."""
    case = await cases.get_case(session, principal, case_id, Action.case_write)
    form = await Form.read(request, ENTRUST_FIELDS, prefix="entrust_")
    return await form.submit(
        session,
        EntrustmentCreate,
        lambda body: service.entrust_case(session, principal, case, body),
        data=form.given("version", "to_unit_code", "reason", include_person=form.values["include_person"] == "on"),
        done=f"/cases/{case_id}?done=entrusted",
        again=lambda errors: detail_page(request, session, principal, case_id, errors=errors, status_code=422),
    )
