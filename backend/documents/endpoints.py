"""Document routes: upload and list under /documents, download/preview/versions/withdrawal of one document,
the retention report, and the case's issued documents (agreements have their own, backend/agreements/).

Uploads are multipart forms with the file in the field `file`. The upload is read up to the size limit plus
one byte, so an oversized file is refused without reading all of it into memory.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable
from typing import Annotated, TypeVar

from fastapi import APIRouter, Depends, File, Form, Path, Query, Request, UploadFile, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from backend.core.error_handlers import error_response
from backend.core.input import Text, UnitCode
from backend.core.list_filters import UnitQuery
from backend.core.pagination import Page, PageParams, page_params
from backend.core.routing import API_V1
from backend.core.storage import content_disposition
from backend.db.session import SessionDep
from backend.documents import issuing, service
from backend.documents.auth import DocumentDestroy, DocumentRead, DocumentWrite
from backend.documents.errors import SignedScanLocked
from backend.documents.schemas import (
    DestructionApproval,
    IssuedDocumentRead,
    IssuedDocumentVerificationRead,
    IssueRequest,
    RetentionItem,
    Revocation,
)
from backend.documents.schemas import DocumentRead as DocumentOut
from backend.documents.storage import document_settings
from backend.documents.storing import NewFile
from backend.models import DocumentKind, DocumentOwnerKind

router = APIRouter(tags=["documents"])
DOCUMENTS = f"{API_V1}/documents"

PageDep = Annotated[PageParams, Depends(page_params)]
UploadDep = Annotated[UploadFile, File(description="PDF, JPEG, PNG or TIFF; the type is read from the bytes")]
# Served files never run as a page in the API's origin, whatever they contain.
_FILE_HEADERS = {"X-Content-Type-Options": "nosniff", "Content-Security-Policy": "sandbox", "Cache-Control": "no-store"}

T = TypeVar("T")

# The token of an issued document's QR code: `<county code>-<random>` (backend/documents/issuing.py).
# Any text: the page answers 404 for whatever is not a token (a scanner of a damaged QR code learns nothing more).
VerifyToken = Annotated[str, Text(80), Path()]


async def read_upload(upload: UploadFile) -> NewFile:
    """The uploaded file, read up to the size limit plus one byte (more is refused without reading it all)."""
    data = await upload.read(document_settings().upload_max_bytes + 1)
    return NewFile(data=data, filename=upload.filename or "")


async def committing_refusal(request: Request, action: Awaitable[T]) -> T | Response:
    """Answer a refused change to a signed scan without rolling the request back, so the audit event of the
    refusal is committed (nothing else was written)."""
    try:
        return await action
    except SignedScanLocked as refusal:
        return error_response(request, refusal.status_code, code=refusal.code, detail=refusal.detail)


@router.post(DOCUMENTS, status_code=status.HTTP_201_CREATED, summary="Upload a scan")
async def upload(
    session: SessionDep,
    principal: DocumentWrite,
    file: UploadDep,
    owner_kind: Annotated[DocumentOwnerKind, Form()],
    owner_id: Annotated[uuid.UUID, Form()],
    kind: Annotated[DocumentKind, Form()],
    org_unit_code: Annotated[UnitCode | None, Form()] = None,
) -> DocumentOut:
    document = await service.upload_document(
        session,
        principal,
        owner_kind=owner_kind,
        owner_id=owner_id,
        kind=kind,
        file=await read_upload(file),
        org_unit_code=org_unit_code,
    )
    return DocumentOut.model_validate(document)


@router.get(DOCUMENTS, summary="An owner's documents, newest first")
async def list_documents(
    session: SessionDep,
    principal: DocumentRead,
    owner_kind: Annotated[DocumentOwnerKind, Query()],
    owner_id: Annotated[uuid.UUID, Query()],
    org_unit_code: UnitQuery = None,
) -> list[DocumentOut]:
    documents = await service.list_documents(session, principal, owner_kind, owner_id, org_unit_code=org_unit_code)
    return [DocumentOut.model_validate(document) for document in documents]


@router.get(f"{DOCUMENTS}/{{document_id}}", summary="One document's metadata")
async def get_document(session: SessionDep, principal: DocumentRead, document_id: uuid.UUID) -> DocumentOut:
    return DocumentOut.model_validate(await service.get_document(session, principal, document_id))


@router.get(
    f"{DOCUMENTS}/{{document_id}}/download",
    summary="Download: a redirect to a short-lived presigned URL (S3), or the bytes streamed (local storage)",
    responses={200: {"content": {"application/pdf": {}, "image/png": {}}}, 307: {"description": "Presigned URL"}},
)
async def download(session: SessionDep, principal: DocumentRead, document_id: uuid.UUID) -> Response:
    result = await service.download(session, principal, document_id)
    document = result.document
    if result.url is not None:
        return RedirectResponse(result.url, status_code=status.HTTP_307_TEMPORARY_REDIRECT, headers=_FILE_HEADERS)
    assert result.stream is not None
    return StreamingResponse(
        result.stream,
        media_type=document.media_type,
        headers={
            **_FILE_HEADERS,
            "Content-Length": str(document.size_bytes),
            "Content-Disposition": content_disposition(document.display_name),
        },
    )


@router.get(
    f"{DOCUMENTS}/{{document_id}}/preview",
    summary="A PNG thumbnail of the image or of the PDF's first page",
    responses={200: {"content": {"image/png": {}}}},
)
async def preview(
    session: SessionDep,
    principal: DocumentRead,
    document_id: uuid.UUID,
    width: Annotated[int, Query(ge=32, le=1024)] = 240,
) -> Response:
    png = await service.preview(session, principal, document_id, width=width)
    return Response(png, media_type="image/png", headers=_FILE_HEADERS)


@router.post(
    f"{DOCUMENTS}/{{document_id}}/versions",
    status_code=status.HTTP_201_CREATED,
    summary="Upload a new version: a new object linked to this one, which stays unchanged",
)
async def new_version(
    session: SessionDep, principal: DocumentWrite, document_id: uuid.UUID, file: UploadDep
) -> DocumentOut:
    document = await service.upload_new_version(session, principal, document_id, await read_upload(file))
    return DocumentOut.model_validate(document)


@router.delete(
    f"{DOCUMENTS}/{{document_id}}",
    response_model=DocumentOut,
    summary="Withdraw a scan attached by mistake (refused, and audited, for a signed agreement scan)",
)
async def delete_document(
    request: Request, session: SessionDep, principal: DocumentWrite, document_id: uuid.UUID
) -> DocumentOut | Response:
    result = await committing_refusal(request, service.delete_document(session, principal, document_id))
    return result if isinstance(result, Response) else DocumentOut.model_validate(result)


# --- retention -----------------------------------------------------------------------------------------------


@router.get(
    f"{API_V1}/document-retention",
    summary="Documents past their retention period, awaiting an administrator's decision",
)
async def retention_report(session: SessionDep, principal: DocumentDestroy, page: PageDep) -> Page[RetentionItem]:
    documents, total = await service.past_retention(session, principal, offset=page.offset, limit=page.size)
    return Page[RetentionItem](
        items=[RetentionItem.model_validate(document) for document in documents],
        total=total,
        page=page.page,
        size=page.size,
    )


@router.post(
    f"{DOCUMENTS}/{{document_id}}/destroy",
    summary="Approve destroying one document past retention (audited; the row stays as a tombstone)",
)
async def destroy(
    session: SessionDep, principal: DocumentDestroy, document_id: uuid.UUID, body: DestructionApproval
) -> DocumentOut:
    return DocumentOut.model_validate(await service.destroy_document(session, principal, document_id, body.reason))


# --- issued documents ------------------------------------------------------------------------------------------


@router.post(
    f"{API_V1}/cases/{{case_id}}/issued-documents",
    status_code=status.HTTP_201_CREATED,
    summary="Issue a document for the case from the county's template (PDF with a verification QR code)",
)
async def issue(
    session: SessionDep, principal: DocumentWrite, case_id: uuid.UUID, body: IssueRequest
) -> IssuedDocumentRead:
    issued = await issuing.issue_document(
        session, principal, body.kind, case_id, body.context, valid_until=body.valid_until
    )
    return issuing.issued_read(issued)


@router.get(f"{API_V1}/cases/{{case_id}}/issued-documents", summary="The case's issued-documents register")
async def issued_register(session: SessionDep, principal: DocumentRead, case_id: uuid.UUID) -> list[IssuedDocumentRead]:
    return [issuing.issued_read(issued) for issued in await issuing.case_register(session, principal, case_id)]


@router.post(
    f"{API_V1}/issued-documents/{{issued_id}}/revoke",
    summary="Revoke an issued document (its verification page then says so)",
)
async def revoke_issued(
    session: SessionDep, principal: DocumentWrite, issued_id: uuid.UUID, body: Revocation
) -> IssuedDocumentRead:
    return issuing.issued_read(await issuing.revoke_issued(session, principal, issued_id, body.reason))


# --- public verification page ----------------------------------------------------------------------------------

verify_router = APIRouter(tags=["verification"])
_verify_page = Environment(
    loader=FileSystemLoader(issuing.TEMPLATES_DIR), autoescape=select_autoescape(default=True)
).get_template("verify.html")


@verify_router.get(
    "/verify/{token}",
    response_model=IssuedDocumentVerificationRead,
    summary="Public: confirm an issued document from its QR code (number, kind, issuer, dates, state; no names)",
    responses={200: {"content": {"text/html": {}}}},
)
async def verify(
    request: Request, session: SessionDep, token: VerifyToken
) -> IssuedDocumentVerificationRead | Response:
    verification = await issuing.verify(session, token)
    if "application/json" in request.headers.get("accept", ""):
        return verification
    html = _verify_page.render(verification=verification, status_label=issuing.STATUS_LABELS[verification.status])
    return HTMLResponse(html, headers={"Cache-Control": "no-store", "X-Robots-Tag": "noindex"})
