"""Documents on the case detail page: upload a scan (multipart) and issue a document from the county's
template (a PDF with its verification QR code). Same services and checks as /api/v1/documents."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import UploadFile

from backend.authz.vocabulary import Action
from backend.cases import service as cases
from backend.core.errors import DomainError
from backend.db.session import SessionDep
from backend.documents import service
from backend.documents.auth import DocumentWrite
from backend.models import Case, CaseOutcome, DocumentKind, DocumentOwnerKind, IssuedDocumentKind

router = APIRouter(include_in_schema=False)

# What a case page may issue from its buttons, by case type, once the case is registered: kinds that need nothing
# but the case. (A refusal letter needs a written reason, a verification letter a recipient, and the 婚育证明 has
# its own pages: those go through their own forms or the API.)
ISSUABLE_FROM_CASE: dict[str, tuple[IssuedDocumentKind, ...]] = {
    "first_child_registration": (IssuedDocumentKind.first_child_registration,),
}


def issuable(case: Case) -> tuple[IssuedDocumentKind, ...]:
    if case.outcome != CaseOutcome.registered:
        return ()
    return ISSUABLE_FROM_CASE.get(case.case_type, ())


@router.post("/cases/{case_id}/documents", response_class=HTMLResponse)
async def upload(request: Request, session: SessionDep, principal: DocumentWrite, case_id: uuid.UUID) -> Response:
    from frontend.pages.cases import detail_page

    form = await request.form()
    upload = form.get("file")
    kind = str(form.get("kind", ""))
    errors: dict[str, str] = {}
    if kind not in DocumentKind.__members__ or kind == DocumentKind.issued.value:
        errors["document_kind"] = "请选择材料类型 / choose the kind of document"
    if not isinstance(upload, UploadFile) or not upload.filename:
        errors["document_file"] = "请选择文件 / choose a file"
    if errors or not isinstance(upload, UploadFile):
        return await detail_page(request, session, principal, case_id, errors=errors, status_code=422)
    data = await upload.read()
    try:
        async with session.begin_nested():
            await service.upload_document(
                session,
                principal,
                owner_kind=DocumentOwnerKind.case,
                owner_id=case_id,
                kind=DocumentKind(kind),
                file=service.NewFile(data=data, filename=upload.filename or ""),
            )
    except DomainError as error:
        errors = {"document_file": error.fields[0].msg if error.fields else error.detail}
        return await detail_page(request, session, principal, case_id, errors=errors, status_code=422)
    return RedirectResponse(f"/cases/{case_id}?uploaded=1#documents-title", status_code=303)


@router.post("/cases/{case_id}/issue", response_class=HTMLResponse)
async def issue(
    request: Request,
    session: SessionDep,
    principal: DocumentWrite,
    case_id: uuid.UUID,
    kind: Annotated[str, Form()] = "",
) -> Response:
    from frontend.pages.cases import detail_page

    case = await cases.get_case(session, principal, case_id, Action.case_read)
    if kind not in {allowed.value for allowed in issuable(case)}:
        errors = {"form": "本案不能签发该类文书 / this document cannot be issued for this case"}
        return await detail_page(request, session, principal, case_id, errors=errors, status_code=422)
    try:
        async with session.begin_nested():
            await service.issue_document(session, principal, IssuedDocumentKind(kind), case_id, {})
    except DomainError as error:
        return await detail_page(request, session, principal, case_id, errors={"form": error.detail}, status_code=422)
    return RedirectResponse(f"/cases/{case_id}?issued=1#issued-title", status_code=303)
