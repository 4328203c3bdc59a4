"""Contraceptive distribution pages (避孕药具发放): the points in reach with their stock, one point with its receipt
and issue forms (the recipient signs on the screen: frontend/static/signature.js; or a signed paper's scan is
uploaded), and the reconciliation. Same services as /api/v1/contraceptives (checked and audited there)."""

from __future__ import annotations

import uuid
from datetime import date

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import UploadFile

from backend.authz.principal import Principal
from backend.authz.vocabulary import Action
from backend.contraceptives import service
from backend.contraceptives.auth import ServiceRead, ServiceWrite
from backend.contraceptives.schemas import IssueCreate, PointCreate, ReceiptCreate
from backend.db.session import SessionDep
from backend.documents.storing import NewFile
from frontend.forms import Form, FormView
from frontend.pages.common import unit_options
from frontend.rendering import render

router = APIRouter(include_in_schema=False)

POINT_FIELDS = ("org_unit_code", "name", "kind", "address")
RECEIPT_INPUTS = {
    "product": "received_product",
    "quantity": "received_quantity",
    "received_on": "received_on",
    "source": "source",
}
ISSUE_FIELDS = ("product", "quantity", "issued_on", "person_id", "signature", "notes")


async def _points_page(
    request: Request, session: AsyncSession, principal: Principal, form: FormView | None = None
) -> HTMLResponse:
    context = {
        "points": await service.list_points(session, principal),
        "units": await unit_options(session, principal, Action.service_write),
        "can_write": principal.holds(Action.service_write),
    }
    return render(request, "contraceptives/points.html", context, form=form or FormView())


@router.get("/contraceptives", response_class=HTMLResponse)
async def points(request: Request, session: SessionDep, principal: ServiceRead) -> HTMLResponse:
    return await _points_page(request, session, principal)


@router.post("/contraceptives/points", response_class=HTMLResponse)
async def create_point(request: Request, session: SessionDep, principal: ServiceWrite) -> Response:
    form = await Form.read(request, POINT_FIELDS)
    return await form.submit(
        session,
        PointCreate,
        lambda body: service.create_point(session, principal, body),
        done=lambda point: f"/contraceptives/points/{point.id}?done=created",
        again=lambda errors: _points_page(request, session, principal, form.view(errors)),
    )


@router.get("/contraceptives/reconciliation", response_class=HTMLResponse)
async def reconciliation(
    request: Request,
    session: SessionDep,
    principal: ServiceRead,
    period_from: date | None = None,
    period_to: date | None = None,
) -> HTMLResponse:
    lines = await service.reconcile(session, principal, period_from, period_to)
    context = {"lines": lines, "period_from": period_from, "period_to": period_to}
    return render(request, "contraceptives/reconciliation.html", context)


async def _point_page(
    request: Request, session: AsyncSession, principal: Principal, point_id: uuid.UUID, form: FormView | None = None
) -> HTMLResponse:
    point = await service.get_point(session, principal, point_id)
    context = {
        "point": point,
        "movements": await service.list_movements(session, principal, point_id),
        "recipients": [
            (str(person.id), person.name) for person in await service.point_residents(session, principal, point_id)
        ],
        "can_write": principal.can(Action.service_write, point.org_unit_code),
    }
    return render(request, "contraceptives/point.html", context, form=form or FormView())


@router.get("/contraceptives/points/{point_id}", response_class=HTMLResponse)
async def point_detail(request: Request, session: SessionDep, principal: ServiceRead, point_id: uuid.UUID) -> Response:
    return await _point_page(request, session, principal, point_id)


@router.post("/contraceptives/points/{point_id}/receipts", response_class=HTMLResponse)
async def receive(request: Request, session: SessionDep, principal: ServiceWrite, point_id: uuid.UUID) -> Response:
    form = await Form.read(request, (*RECEIPT_INPUTS.values(), "receipt_notes"))
    form.fields.update(RECEIPT_INPUTS)
    data = {field: form.values[name] for field, name in RECEIPT_INPUTS.items() if form.values[name]}
    return await form.submit(
        session,
        ReceiptCreate,
        lambda body: service.receive(session, principal, point_id, body),
        data=data,
        done=f"/contraceptives/points/{point_id}?done=received",
        again=lambda errors: _point_page(request, session, principal, point_id, form.view(errors)),
    )


@router.post("/contraceptives/points/{point_id}/issues", response_class=HTMLResponse)
async def issue(request: Request, session: SessionDep, principal: ServiceWrite, point_id: uuid.UUID) -> Response:
    form = await Form.read(request, ISSUE_FIELDS)
    # The signed paper's scan and its refusals show at the file input.
    form.fields.update(signed_scan_document_id="signed_scan", file="signed_scan")
    upload = (await request.form()).get("signed_scan")
    scan = (
        NewFile(data=await upload.read(), filename=upload.filename or "")
        if isinstance(upload, UploadFile) and upload.filename
        else None
    )
    return await form.submit(
        session,
        IssueCreate,
        lambda body: service.issue(session, principal, point_id, body, scan),
        done=f"/contraceptives/points/{point_id}?done=issued",
        again=lambda errors: _point_page(request, session, principal, point_id, form.view(errors)),
    )
