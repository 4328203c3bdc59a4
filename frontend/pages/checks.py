"""Check-round pages (三查): the rounds in reach (a phone-width list), one round with its result form (the proof's
scan uploaded with it), and 三查到位率 per unit. Same services as /api/v1/check-rounds (checked and audited there)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import UploadFile

from backend.authz.principal import Principal
from backend.authz.vocabulary import Action
from backend.checks import service
from backend.checks.auth import ServiceRead, ServiceWrite
from backend.checks.repository import RoundFilters
from backend.checks.schemas import CheckResultCreate
from backend.core.pagination import PageParams
from backend.db.session import SessionDep
from backend.documents.storing import NewFile
from backend.models import CheckRoundStatus
from frontend.forms import Form, FormView
from frontend.pages.common import page_count, page_number
from frontend.rendering import render

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 25
RESULT_FIELDS = (
    "checked_on",
    "pregnancy",
    "iud",
    "gynaecology",
    "gynaecology_notes",
    "provider_name",
    "place",
    "place_name",
    "notes",
)


@router.get("/checks", response_class=HTMLResponse)
async def round_list(
    request: Request,
    session: SessionDep,
    principal: ServiceRead,
    status: str = "due",
    name: Annotated[str, Query(max_length=50)] = "",
    page: str | None = None,
) -> HTMLResponse:
    chosen = CheckRoundStatus(status) if status in CheckRoundStatus.__members__ else None
    number = page_number(page)
    rounds, total = await service.list_rounds(
        session,
        principal,
        RoundFilters(status=chosen, name=name.strip() or None),
        PageParams(page=number, size=PAGE_SIZE),
    )
    context = {
        "rounds": rounds,
        "total": total,
        "status": status if chosen else "",
        "name": name,
        "page": number,
        "pages": page_count(total, PAGE_SIZE),
        "params": dict(request.query_params),
    }
    return render(request, "checks/list.html", context)


@router.get("/checks/rates", response_class=HTMLResponse)
async def rates(
    request: Request,
    session: SessionDep,
    principal: ServiceRead,
    window_from: date | None = None,
    window_to: date | None = None,
) -> HTMLResponse:
    found = await service.check_rates(session, principal, window_from, window_to)
    return render(request, "checks/rates.html", {"rates": found, "window_from": window_from, "window_to": window_to})


async def _round_page(
    request: Request, session: AsyncSession, principal: Principal, round_id: uuid.UUID, form: FormView | None = None
) -> HTMLResponse:
    view = await service.get_round(session, principal, round_id)
    context = {"round": view, "can_write": principal.can(Action.service_write, view.org_unit_code)}
    return render(request, "checks/round.html", context, form=form or FormView())


@router.get("/checks/{round_id}", response_class=HTMLResponse)
async def round_detail(request: Request, session: SessionDep, principal: ServiceRead, round_id: uuid.UUID) -> Response:
    return await _round_page(request, session, principal, round_id)


@router.post("/checks/{round_id}/result", response_class=HTMLResponse)
async def record_result(
    request: Request, session: SessionDep, principal: ServiceWrite, round_id: uuid.UUID
) -> Response:
    form = await Form.read(request, RESULT_FIELDS)
    # The proof's scan and its refusals (type, size, name) show at the file input.
    form.fields.update(proof_document_id="proof", file="proof")
    upload = (await request.form()).get("proof")
    proof = (
        NewFile(data=await upload.read(), filename=upload.filename or "")
        if isinstance(upload, UploadFile) and upload.filename
        else None
    )
    # The file stands for the document id the API takes: the service stores it with the result.
    return await form.submit(
        session,
        CheckResultCreate,
        lambda body: service.record_result(session, principal, round_id, body, proof),
        done=f"/checks/{round_id}?done=recorded",
        again=lambda errors: _round_page(request, session, principal, round_id, form.view(errors)),
    )
