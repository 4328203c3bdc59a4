"""Agreement pages (责任书 / 合同 / 双向服务管理协议书): the list (kind, unit, expiring soon; paged), one agreement
with its parties, validity, signed scan and its versions, and renewals; forms to record one, attach the signed
scan once, upload a corrected version of the scan, and renew. Same services and checks as /api/v1/agreements
and /api/v1/documents: a second signed scan is refused there, audited, and shown here as a plain message."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import UploadFile

from backend.authz.principal import Principal
from backend.authz.vocabulary import Action
from backend.core.clock import china_today
from backend.core.errors import DomainError
from backend.core.pagination import PageParams
from backend.db.session import SessionDep
from backend.documents import service
from backend.documents.auth import DocumentRead, DocumentWrite
from backend.documents.errors import SignedScanLocked
from backend.documents.repository import AgreementFilters
from backend.documents.schemas import AgreementCreate, AgreementRenew
from backend.models import AgreementKind, DocumentOwnerKind
from backend.org import service as org
from frontend.forms import field_errors
from frontend.pages.common import page_count
from frontend.rendering import render

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 25
PARTY_ROWS = 4  # the form offers four parties; an agreement needs at least two
EXPIRING_CHOICES = ("30", "90")
AGREEMENT_FIELDS = ("kind", "title", "template_name", "signed_on", "valid_from", "valid_until", "org_unit_code")
RENEW_FIELDS = ("title", "signed_on", "valid_from", "valid_until")


def _validation_errors(invalid: ValidationError, prefix: str = "") -> dict[str, str]:
    """Pydantic's refusals by field ("parties" for any party row), in the pages' bilingual wording."""
    errors: dict[str, str] = {}
    for error in invalid.errors():
        name = str(error["loc"][0]) if error["loc"] else "form"
        if name == "parties":
            message = "至少填写两方（角色和名称） / give at least two parties (role and name)"
        elif error["type"] == "missing":
            message = "必填 / required"
        else:
            message = "格式不正确 / invalid format"
        errors.setdefault(prefix + name, message)
    return errors


def _parties(form: Any) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """(the rows as typed, to show again; the complete ones, for the service)."""
    rows = [
        {
            "role": str(form.get(f"party_role_{index}", "")).strip(),
            "name": str(form.get(f"party_name_{index}", "")).strip(),
        }
        for index in range(PARTY_ROWS)
    ]
    return rows, [row for row in rows if row["role"] or row["name"]]


async def _units(session: AsyncSession, principal: Principal, action: Action) -> list[tuple[str, str]]:
    units = await org.list_units_in_scopes(session, principal.scopes_for(action))
    return [(unit.code, f"{unit.name}（{unit.code}）") for unit in units if unit.active]


@router.get("/agreements", response_class=HTMLResponse)
async def agreement_list(
    request: Request,
    session: SessionDep,
    principal: DocumentRead,
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
async def agreement_form(request: Request, session: SessionDep, principal: DocumentWrite) -> HTMLResponse:
    return await _form(request, session, principal)


@router.post("/agreements/new", response_class=HTMLResponse)
async def create(request: Request, session: SessionDep, principal: DocumentWrite) -> Response:
    form = await request.form()
    values = {name: str(form.get(name, "")).strip() for name in AGREEMENT_FIELDS}
    rows, parties = _parties(form)
    body = {name: value for name, value in values.items() if value}
    try:
        agreement_create = AgreementCreate.model_validate({**body, "parties": parties})
    except ValidationError as invalid:
        errors = _validation_errors(invalid)
        return await _form(request, session, principal, values=values, parties=rows, errors=errors, status_code=422)
    try:
        async with session.begin_nested():
            agreement = await service.create_agreement(session, principal, agreement_create)
    except DomainError as error:
        if error.status_code == 404:  # a unit outside the writer's reach reads as a wrong choice, not a 404 page
            errors = {"org_unit_code": "请选择您管理范围内的单位 / choose a unit within your reach"}
        else:
            errors = field_errors(error)
        return await _form(request, session, principal, values=values, parties=rows, errors=errors, status_code=422)
    return RedirectResponse(f"/agreements/{agreement.id}?done=created", status_code=303)


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
    documents = await service.list_documents(session, principal, DocumentOwnerKind.agreement, agreement.id)
    superseded = {document.supersedes_id for document in documents if document.supersedes_id is not None}
    latest = next((document for document in documents if document.id not in superseded), None)
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
            "documents": documents,
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
    request: Request, session: SessionDep, principal: DocumentRead, agreement_id: uuid.UUID
) -> HTMLResponse:
    return await _detail_page(request, session, principal, agreement_id)


async def _uploaded_file(request: Request, error_key: str) -> service.NewFile | dict[str, str]:
    form = await request.form()
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return {error_key: "请选择文件 / choose a file"}
    return service.NewFile(data=await upload.read(), filename=upload.filename or "")


def _upload_errors(error: DomainError, key: str) -> dict[str, str]:
    return {key: error.fields[0].msg if error.fields else error.detail}


@router.post("/agreements/{agreement_id}/signed-scan", response_class=HTMLResponse)
async def attach_signed_scan(
    request: Request, session: SessionDep, principal: DocumentWrite, agreement_id: uuid.UUID
) -> Response:
    file = await _uploaded_file(request, "scan_file")
    if isinstance(file, dict):
        await service.agreement_in_reach(session, principal, agreement_id, Action.document_write)  # 404 first
        return await _detail_page(request, session, principal, agreement_id, errors=file, status_code=422)
    try:
        # No savepoint around the refusal of a second scan: its audit event must be committed with the page.
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
        errors = _upload_errors(error, "scan_file")
        return await _detail_page(request, session, principal, agreement_id, errors=errors, status_code=422)
    return RedirectResponse(f"/agreements/{agreement_id}?done=signed", status_code=303)


@router.post("/agreements/{agreement_id}/scan-version", response_class=HTMLResponse)
async def new_scan_version(
    request: Request, session: SessionDep, principal: DocumentWrite, agreement_id: uuid.UUID
) -> Response:
    agreement = await service.agreement_in_reach(session, principal, agreement_id, Action.document_write)
    form = await request.form()
    file = await _uploaded_file(request, "version_file")
    document_id = str(form.get("document_id", ""))
    documents = await service.list_documents(session, principal, DocumentOwnerKind.agreement, agreement.id)
    if isinstance(file, dict) or document_id not in {str(document.id) for document in documents}:
        errors = file if isinstance(file, dict) else {"version_file": "请先上传签署件 / attach the signed scan first"}
        return await _detail_page(request, session, principal, agreement_id, errors=errors, status_code=422)
    try:
        async with session.begin_nested():
            await service.upload_new_version(session, principal, uuid.UUID(document_id), file)
    except DomainError as error:
        errors = _upload_errors(error, "version_file")
        return await _detail_page(request, session, principal, agreement_id, errors=errors, status_code=422)
    return RedirectResponse(f"/agreements/{agreement_id}?done=version", status_code=303)


@router.post("/agreements/{agreement_id}/renew", response_class=HTMLResponse)
async def renew(request: Request, session: SessionDep, principal: DocumentWrite, agreement_id: uuid.UUID) -> Response:
    form = await request.form()
    values = {name: str(form.get(name, "")).strip() for name in RENEW_FIELDS}
    try:
        body = AgreementRenew.model_validate({name: value for name, value in values.items() if value})
    except ValidationError as invalid:
        await service.agreement_in_reach(session, principal, agreement_id, Action.document_write)  # 404 first
        errors = _validation_errors(invalid, prefix="renew_")
        return await _detail_page(
            request, session, principal, agreement_id, errors=errors, values=values, status_code=422
        )
    try:
        async with session.begin_nested():
            renewal = await service.renew_agreement(session, principal, agreement_id, body)
    except DomainError as error:
        if error.status_code == 404:
            raise
        errors = {f"renew_{key}": message for key, message in field_errors(error).items()}
        return await _detail_page(
            request, session, principal, agreement_id, errors=errors, values=values, status_code=422
        )
    return RedirectResponse(f"/agreements/{renewal.id}?done=renewed", status_code=303)
