"""What the case detail page shows beside the case: its cross-county verification requests (with the form that
sends one), its documents (with the upload form) and its issued documents. Each part only when the user holds
the permission for it on the case's unit."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from backend.authz.principal import Principal
from backend.authz.vocabulary import Action
from backend.documents import issuing
from backend.documents.repository import DocumentRepository
from backend.models import Case, DocumentKind, DocumentOwnerKind, QuestionType
from backend.verification.repository import VerificationFilters, VerificationRepository
from frontend.pages.documents import issuable

UPLOAD_KINDS = [kind for kind in DocumentKind if kind is not DocumentKind.issued]


async def case_panels(session: AsyncSession, principal: Principal, case: Case) -> dict[str, Any]:
    unit = case.org_unit_code
    can_verify = principal.can(Action.verification_request, unit) and principal.can(Action.case_write, unit)
    verifications: list[Any] = []
    if can_verify:
        filters = VerificationFilters(roots=principal.scopes_for(Action.verification_request), case_id=case.id)
        verifications, _total = await VerificationRepository(session).outbox(filters, offset=0, limit=100)
    can_read_documents = principal.can(Action.document_read, unit)
    documents: list[Any] = []
    issued: list[Any] = []
    if can_read_documents:
        documents = await DocumentRepository(session).for_owner(
            DocumentOwnerKind.case, case.id, principal.scopes_for(Action.document_read)
        )
        issued = [issuing.issued_read(row) for row in await issuing.case_register(session, principal, case.id)]
    return {
        "can_verify": can_verify,
        "verifications": verifications,
        "question_types": list(QuestionType),
        "can_read_documents": can_read_documents,
        "can_write_documents": principal.can(Action.document_write, unit),
        "documents": [document for document in documents if document.destroyed_at is None],
        "upload_kinds": UPLOAD_KINDS,
        "issued": issued,
        "issuable": issuable(case),
        "issued_labels": issuing.KIND_LABELS,
    }
