"""The population-information query ledger pages (人口信息查询登记, P19): the ledger with the norm's fields, a new
query (审核、告知、登记), and one entry with the scan of the signed application form (uploaded through the documents
module, required before the answer), the answer limited to the purpose's fields, or a refusal with its reason.
Same services and checks as /api/v1/info-queries and /api/v1/documents."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import UploadFile

from backend.authz.principal import Principal
from backend.authz.vocabulary import Action
from backend.core.pagination import PageParams
from backend.db.session import SessionDep
from backend.documents import service as documents
from backend.info_queries import rules, service
from backend.info_queries.auth import LedgerKeep
from backend.info_queries.schemas import InfoQueryCreate, InfoQueryRefuse, VersionBody
from backend.models import DocumentKind, DocumentOwnerKind
from backend.org import service as org
from frontend.forms import FieldErrors, Form, FormView
from frontend.pages.common import page_count, unit_names
from frontend.rendering import render

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 25
FIELDS = ("org_unit_code", "purpose", "requester_name", "requester_unit", "subject_person_id", "subject_name")
CHOOSE_FILE = "请选择扫描件 / choose the scan"


def _labels() -> dict[str, object]:
    return {
        "purposes": [(code, purpose.label) for code, purpose in rules.PURPOSES.items()],
        "document_labels": rules.DOCUMENTS,
    }


@router.get("/info-queries", response_class=HTMLResponse)
async def ledger(
    request: Request, session: SessionDep, principal: LedgerKeep, page: Annotated[int, Query(ge=1, le=100_000)] = 1
) -> HTMLResponse:
    """The ledger in date order (「按时间顺序装订成册」) with the norm's fields."""
    params = PageParams(page=page, size=PAGE_SIZE)
    entries, total = await service.ledger(session, principal, offset=params.offset, limit=PAGE_SIZE)
    context = {"entries": entries, "total": total, "page": page, "pages": page_count(total, PAGE_SIZE), "params": {}}
    return render(request, "info_queries/ledger.html", context | _labels())


async def _form_page(
    request: Request, session: AsyncSession, principal: Principal, form: FormView | None = None
) -> HTMLResponse:
    units = await org.list_units_in_scopes(session, principal.scopes_for(Action.person_read_identifiers))
    context = {"units": [(unit.code, f"{unit.name}（{unit.code}）") for unit in units if unit.active]}
    view = form or FormView({"subject_person_id": request.query_params.get("person", "")}, {}, 200)
    return render(request, "info_queries/new.html", context | _labels(), form=view)


@router.get("/info-queries/new", response_class=HTMLResponse)
async def new_query(request: Request, session: SessionDep, principal: LedgerKeep) -> HTMLResponse:
    return await _form_page(request, session, principal)


@router.post("/info-queries/new", response_class=HTMLResponse)
async def record(request: Request, session: SessionDep, principal: LedgerKeep) -> Response:
    form = await Form.read(request, (*FIELDS, "application_signed", "subject_consent"), lists=("documents_seen",))
    flags = {name: form.values[name] == "on" for name in ("application_signed", "subject_consent")}
    return await form.submit(
        session,
        InfoQueryCreate,
        lambda body: service.record_query(session, principal, body),
        data=form.given(*FIELDS, "documents_seen", **flags),
        done=lambda entry: f"/info-queries/{entry.id}?done=recorded",
        again=lambda errors: _form_page(request, session, principal, form.view(errors)),
    )


async def _entry_page(
    request: Request,
    session: AsyncSession,
    principal: Principal,
    query_id: uuid.UUID,
    *,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    entry = service.entry_read(await service.get_query(session, principal, query_id, Action.person_read_identifiers))
    scans = await documents.list_documents(session, principal, DocumentOwnerKind.info_query, query_id)
    context = {
        "entry": entry,
        "scans": [scan for scan in scans if scan.destroyed_at is None],
        "unit_names": await unit_names(session),
        "errors": errors or {},
    }
    return render(request, "info_queries/entry.html", context | _labels(), status_code=status_code)


@router.get("/info-queries/{query_id}", response_class=HTMLResponse)
async def entry(request: Request, session: SessionDep, principal: LedgerKeep, query_id: uuid.UUID) -> HTMLResponse:
    return await _entry_page(request, session, principal, query_id)


@router.post("/info-queries/{query_id}/application", response_class=HTMLResponse)
async def upload_application(
    request: Request, session: SessionDep, principal: LedgerKeep, query_id: uuid.UUID
) -> Response:
    """The scan of the signed 《人口信息查询申请表》, through the documents module's upload (the same checks)."""
    await service.get_query(session, principal, query_id, Action.person_read_identifiers)  # 404 first
    upload = (await request.form()).get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return await _entry_page(request, session, principal, query_id, errors={"file": CHOOSE_FILE}, status_code=422)
    file = documents.NewFile(data=await upload.read(), filename=upload.filename)
    uploaded = await Form({}).run(
        session,
        lambda: documents.upload_document(
            session,
            principal,
            owner_kind=DocumentOwnerKind.info_query,
            owner_id=query_id,
            kind=DocumentKind.signature,
            file=file,
        ),
    )
    if isinstance(uploaded, FieldErrors):
        errors = {"file": next(iter(uploaded.values()))}
        return await _entry_page(request, session, principal, query_id, errors=errors, status_code=422)
    return RedirectResponse(f"/info-queries/{query_id}?done=uploaded", status_code=303)


@router.post("/info-queries/{query_id}/answer", response_class=HTMLResponse)
async def answer(request: Request, session: SessionDep, principal: LedgerKeep, query_id: uuid.UUID) -> Response:
    form = await Form.read(request, ("version",))
    return await form.submit(
        session,
        VersionBody,
        lambda body: service.answer_query(session, principal, query_id, body),
        done=f"/info-queries/{query_id}?done=answered",
        again=lambda errors: _entry_page(request, session, principal, query_id, errors=errors, status_code=422),
    )


@router.post("/info-queries/{query_id}/refuse", response_class=HTMLResponse)
async def refuse(request: Request, session: SessionDep, principal: LedgerKeep, query_id: uuid.UUID) -> Response:
    form = await Form.read(request, ("version", "reason"))
    return await form.submit(
        session,
        InfoQueryRefuse,
        lambda body: service.refuse_query(session, principal, query_id, body),
        done=f"/info-queries/{query_id}?done=refused",
        again=lambda errors: _entry_page(request, session, principal, query_id, errors=errors, status_code=422),
    )
