"""Agreement pages (责任书 / 合同 / 双向服务管理协议书): the list (kind, unit, expiring soon; paged), one agreement
with its parties, validity, signed scan and its versions, and renewals; forms to record one, attach the signed
scan once, upload a corrected version of the scan, and renew. Same services and checks as /api/v1/agreements
and /api/v1/documents: a second signed scan is refused there, audited, and shown here as a plain message."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import UploadFile

from backend.agreements import service
from backend.agreements.auth import AgreementRead, AgreementWrite
from backend.agreements.repository import AgreementFilters
from backend.agreements.schemas import AgreementCreate, AgreementRenew
from backend.authz.principal import Principal
from backend.authz.vocabulary import Action
from backend.core.clock import china_today
from backend.core.errors import DomainError
from backend.core.pagination import PageParams
from backend.db.session import SessionDep
from backend.documents import service as documents
from backend.documents.errors import SignedScanLocked
from backend.models import AgreementKind, DocumentOwnerKind
from backend.org import service as org
from frontend.forms import FieldErrors, Form, field_errors
from frontend.pages.common import page_count
from frontend.rendering import render

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 25
PARTY_ROWS = 4  # the form offers four parties; an agreement needs at least two
EXPIRING_CHOICES = ("30", "90")
AGREEMENT_FIELDS = ("kind", "title", "template_name", "signed_on", "valid_from", "valid_until", "org_unit_code")
RENEW_FIELDS = ("title", "signed_on", "valid_from", "valid_until")


PARTY_FIELDS = tuple(f"party_{part}_{index}" for index in range(PARTY_ROWS) for part in ("role", "name"))
PARTIES_REQUIRED = "至少填写两方（角色和名称） / give at least two parties (role and name)"
FILE_REQUIRED = "请选择文件 / choose a file"


def _parties(values: dict[str, str]) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """(the rows as typed, to show again; the complete ones, for the service)."""
    rows = [
        {"role": values[f"party_role_{index}"], "name": values[f"party_name_{index}"]} for index in range(PARTY_ROWS)
    ]
    return rows, [row for row in rows if row["role"] or row["name"]]


async def _units(session: AsyncSession, principal: Principal, action: Action) -> list[tuple[str, str]]:
    units = await org.list_units_in_scopes(session, principal.scopes_for(action))
    return [(unit.code, f"{unit.name}（{unit.code}）") for unit in units if unit.active]


@router.get("/agreements", response_class=HTMLResponse)
async def agreement_list(
    request: Request,
    session: SessionDep,
    principal: AgreementRead,
    kind: str = "",
    expiring: str = "",
    unit: Annotated[str, Query(max_length=12)] = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> HTMLResponse:
    units = await _units(session, principal, Action.document_read)
    filters = AgreementFilters(
        kind=AgreementKind(kind) if kind in AgreementKind.__members__ else None,
        org_unit_code=unit if unit in dict(units) else None,
        expiring_before=china_today() + timedelta(days=int(expiring)) if expiring in EXPIRING_CHOICES else None,
    )
    params = PageParams(page=page, size=PAGE_SIZE)
    agreements, total = await service.list_agreements(
        session, principal, filters, offset=params.offset, limit=params.size
    )
    return render(
        request,
        "agreements/list.html",
        {
            "agreements": agreements,
            "total": total,
            "page": page,
            "pages": page_count(total, PAGE_SIZE),
            "params": {"kind": kind, "expiring": expiring, "unit": unit},
            "units": units,
            "today": china_today(),
            "can_write": principal.holds(Action.document_write),
        },
    )


async def _form(
    request: Request,
    session: AsyncSession,
    principal: Principal,
    *,
    values: dict[str, str] | None = None,
    parties: list[dict[str, str]] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    rows = parties or [{"role": "", "name": ""} for _ in range(PARTY_ROWS)]
    return render(
        request,
        "agreements/form.html",
        {
            "values": values or {},
            "parties": rows,
            "errors": errors or {},
            "units": await _units(session, principal, Action.document_write),
        },
        status_code=status_code,
    )


@router.get("/agreements/new", response_class=HTMLResponse)
async def agreement_form(request: Request, session: SessionDep, principal: AgreementWrite) -> HTMLResponse:
    return await _form(request, session, principal)


@router.post("/agreements/new", response_class=HTMLResponse)
async def create(request: Request, session: SessionDep, principal: AgreementWrite) -> Response:
    form = await Form.read(request, (*AGREEMENT_FIELDS, *PARTY_FIELDS))
    form.messages["parties"] = PARTIES_REQUIRED
    rows, parties = _parties(form.values)
    values = {name: form.values[name] for name in AGREEMENT_FIELDS}
    return await form.submit(
        session,
        AgreementCreate,
        lambda body: service.create_agreement(session, principal, body),
        data=form.given(*AGREEMENT_FIELDS, parties=parties),
        # A unit outside the writer's reach reads as a wrong choice, not a 404 page.
        not_found=lambda _: {"org_unit_code": "请选择您管理范围内的单位 / choose a unit within your reach"},
        done=lambda agreement: f"/agreements/{agreement.id}?done=created",
        again=lambda errors: _form(
            request, session, principal, values=values, parties=rows, errors=errors, status_code=422
        ),
    )


async def _detail_page(
    request: Request,
    session: AsyncSession,
    principal: Principal,
    agreement_id: uuid.UUID,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    agreement = await service.agreement_in_reach(session, principal, agreement_id, Action.document_read)
    scans = await documents.list_documents(session, principal, DocumentOwnerKind.agreement, agreement.id)
    superseded = {document.supersedes_id for document in scans if document.supersedes_id is not None}
    latest = next((document for document in scans if document.id not in superseded), None)
    previous = None
    if agreement.renews_id is not None:
        try:
            previous = await service.agreement_in_reach(session, principal, agreement.renews_id, Action.document_read)
        except DomainError:
            previous = None
    return render(
        request,
        "agreements/detail.html",
        {
            "agreement": agreement,
            "documents": scans,
            "latest_scan": latest if agreement.signed_document_id is not None else None,
            "previous": previous,
            "renewals": await service.agreement_renewals(session, principal, agreement),
            "today": china_today(),
            "can_write": principal.can(Action.document_write, agreement.org_unit_code),
            "errors": errors or {},
            "values": values or {},
        },
        status_code=status_code,
    )


@router.get("/agreements/{agreement_id}", response_class=HTMLResponse)
async def agreement_detail(
    request: Request, session: SessionDep, principal: AgreementRead, agreement_id: uuid.UUID
) -> HTMLResponse:
    return await _detail_page(request, session, principal, agreement_id)


async def _uploaded_file(request: Request, error_key: str) -> documents.NewFile | dict[str, str]:
    posted = await request.form()
    upload = posted.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return {error_key: FILE_REQUIRED}
    return documents.NewFile(data=await upload.read(), filename=upload.filename or "")


def _upload_errors(errors: dict[str, str], key: str) -> dict[str, str]:
    """Every refusal of an upload (the bytes, the name) at the file input."""
    return {key: next(iter(errors.values()))}


@router.post("/agreements/{agreement_id}/signed-scan", response_class=HTMLResponse)
async def attach_signed_scan(
    request: Request, session: SessionDep, principal: AgreementWrite, agreement_id: uuid.UUID
) -> Response:
    file = await _uploaded_file(request, "scan_file")
    if isinstance(file, dict):
        await service.agreement_in_reach(session, principal, agreement_id, Action.document_write)  # 404 first
        return await _detail_page(request, session, principal, agreement_id, errors=file, status_code=422)
    try:
        # Not through Form.run's savepoint: the refusal of a second scan is audited, and its audit event must be
        # committed with the page.
        await service.attach_signed_scan(session, principal, agreement_id, file)
    except SignedScanLocked:
        errors = {
            "scan_locked": "签署件已上传并已锁定，不能替换或删除；如需更正，请上传新版本 / the signed scan is already "
            "attached and locked: it cannot be replaced or deleted; upload a corrected version instead"
        }
        return await _detail_page(request, session, principal, agreement_id, errors=errors, status_code=409)
    except DomainError as error:
        if error.status_code == 404:
            raise
        errors = _upload_errors(field_errors(error), "scan_file")
        return await _detail_page(request, session, principal, agreement_id, errors=errors, status_code=422)
    return RedirectResponse(f"/agreements/{agreement_id}?done=signed", status_code=303)


@router.post("/agreements/{agreement_id}/scan-version", response_class=HTMLResponse)
async def new_scan_version(
    request: Request, session: SessionDep, principal: AgreementWrite, agreement_id: uuid.UUID
) -> Response:
    agreement = await service.agreement_in_reach(session, principal, agreement_id, Action.document_write)
    form = await Form.read(request, ("document_id",))
    file = await _uploaded_file(request, "version_file")
    scans = await documents.list_documents(session, principal, DocumentOwnerKind.agreement, agreement.id)
    document_id = form.values["document_id"]
    if isinstance(file, dict) or document_id not in {str(document.id) for document in scans}:
        errors = file if isinstance(file, dict) else {"version_file": "请先上传签署件 / attach the signed scan first"}
        return await _detail_page(request, session, principal, agreement_id, errors=errors, status_code=422)
    new_file = file
    uploaded = await form.run(
        session,
        lambda: documents.upload_new_version(session, principal, uuid.UUID(document_id), new_file),
        not_found=field_errors,
    )
    if isinstance(uploaded, FieldErrors):
        errors = _upload_errors(uploaded, "version_file")
        return await _detail_page(request, session, principal, agreement_id, errors=errors, status_code=422)
    return RedirectResponse(f"/agreements/{agreement_id}?done=version", status_code=303)


@router.post("/agreements/{agreement_id}/renew", response_class=HTMLResponse)
async def renew(request: Request, session: SessionDep, principal: AgreementWrite, agreement_id: uuid.UUID) -> Response:
    form = await Form.read(request, RENEW_FIELDS, prefix="renew_")
    await service.agreement_in_reach(session, principal, agreement_id, Action.document_write)  # 404 first
    return await form.submit(
        session,
        AgreementRenew,
        lambda body: service.renew_agreement(session, principal, agreement_id, body),
        done=lambda renewal: f"/agreements/{renewal.id}?done=renewed",
        again=lambda errors: _detail_page(
            request, session, principal, agreement_id, errors=errors, values=form.values, status_code=422
        ),
    )
