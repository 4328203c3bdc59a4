"""Documents on the case page: upload a scan (multipart) and issue a document from the county's template (a PDF
with its verification QR code). Same services and checks as /api/v1/documents; what a case may issue is decided by
backend/documents/issuing.py."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import UploadFile

from backend.authz.vocabulary import Action
from backend.cases import service as cases
from backend.core.errors import DomainError
from backend.db.session import SessionDep
from backend.documents import issuing, service
from backend.documents.auth import DocumentWrite
from backend.documents.schemas import Revocation
from backend.models import DocumentKind, DocumentOwnerKind, IssuedDocumentKind
from backend.submissions.service import once, parse_token
from frontend.forms import FieldErrors, Form
from frontend.pages.case_page import detail_page

router = APIRouter(include_in_schema=False)

NOT_ISSUABLE = "本案不能签发该类文书 / this document cannot be issued for this case"
VOID_REASON = "请写明作废理由（至少2个字） / give the reason for voiding (at least 2 characters)"


def _first_message(error: DomainError) -> dict[str, str]:
    return {"document_file": error.fields[0].msg if error.fields else error.detail}


@router.post("/cases/{case_id}/documents", response_class=HTMLResponse)
async def upload(request: Request, session: SessionDep, principal: DocumentWrite, case_id: uuid.UUID) -> Response:
    posted = await request.form()
    upload = posted.get("file")
    kind = str(posted.get("kind", ""))
    errors: dict[str, str] = {}
    if kind not in DocumentKind.__members__ or kind == DocumentKind.issued.value:
        errors["document_kind"] = "请选择材料类型 / choose the kind of document"
    if not isinstance(upload, UploadFile) or not upload.filename:
        errors["document_file"] = "请选择文件 / choose a file"
    if errors or not isinstance(upload, UploadFile):
        return await detail_page(request, session, principal, case_id, errors=errors, status_code=422)
    file = service.NewFile(data=await upload.read(), filename=upload.filename or "")
    uploaded = await Form({}).run(
        session,
        lambda: service.upload_document(
            session,
            principal,
            owner_kind=DocumentOwnerKind.case,
            owner_id=case_id,
            kind=DocumentKind(kind),
            file=file,
        ),
        not_found=_first_message,
    )
    if isinstance(uploaded, FieldErrors):
        # Every refusal of the upload (the bytes, the name, the case out of reach) is shown at the file input.
        errors = {"document_file": next(iter(uploaded.values()))}
        return await detail_page(request, session, principal, case_id, errors=errors, status_code=422)
    return RedirectResponse(f"/cases/{case_id}?uploaded=1#documents-title", status_code=303)


@router.post("/cases/{case_id}/issue", response_class=HTMLResponse)
async def issue(request: Request, session: SessionDep, principal: DocumentWrite, case_id: uuid.UUID) -> Response:
    """Issue one of the kinds the case page offers for this case, once per form (its one-time token): a second
    submit of the same form leads to the document issued by the first."""
    form = await Form.read(request, ("kind", "form_token"))
    case = await cases.get_case(session, principal, case_id, Action.case_read)
    kind = next((allowed for allowed in IssuedDocumentKind if allowed.value == form.values["kind"]), None)
    if kind is None or kind not in issuing.ISSUABLE_FROM_CASE.get(case.case_type, ()):
        return await detail_page(request, session, principal, case_id, errors={"form": NOT_ISSUABLE}, status_code=422)

    async def issue_it() -> str:
        await service.issue_document(session, principal, kind, case_id, {})
        return f"/cases/{case_id}?issued=1#issued-title"

    token = parse_token(form.values["form_token"])
    done = await form.run(
        session,
        lambda: once(session, principal, token, f"issue:{case_id}:{kind.value}", issue_it),
        not_found=lambda error: {"form": error.detail},
    )
    if isinstance(done, FieldErrors):
        errors = {"form": next(iter(done.values()))}
        return await detail_page(request, session, principal, case_id, errors=errors, status_code=422)
    return RedirectResponse(done, status_code=303)


@router.post("/cases/{case_id}/issued/{issued_id}/void", response_class=HTMLResponse)
async def void(
    request: Request, session: SessionDep, principal: DocumentWrite, case_id: uuid.UUID, issued_id: uuid.UUID
) -> Response:
    """Void (作废) an issued document with a reason: its verification page says so from then on (audited)."""
    form = await Form.read(request, ("reason",), prefix=f"void_{issued_id}_")
    form.messages["reason"] = VOID_REASON
    return await form.submit(
        session,
        Revocation,
        lambda body: issuing.revoke_issued(session, principal, issued_id, body.reason),
        done=f"/cases/{case_id}?voided=1#issued-title",
        again=lambda errors: detail_page(request, session, principal, case_id, errors=errors, status_code=422),
    )
