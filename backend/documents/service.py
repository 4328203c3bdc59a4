"""Documents (材料): upload, read, versions, withdrawal, retention; the rules.

- Upload: the bytes are checked and stored by `backend.documents.storing.store_document` (sniffed type, size
  limit, SHA-256, a server-made object key under the county's prefix; the row first, the object last).
- Reading: `document.read` on the unit keeping the document (the owner's unit at upload time); anything
  else answers 404, so no presigned URL can be obtained. Every download and preview is audited with the
  reader.
- Signed agreement scans (backend/agreements/) are `locked`: a request to replace or delete one is refused
  here, always, and the refusal is audited. A new version is a new row and a new object pointing at the old one.
- Retention: each kind has a period (backend/documents/retention.py); nothing is deleted automatically; an
  administrator destroys documents past retention one by one, audited.
- Orphans: a commit that fails after the object was written leaves an object without a row; `cleanup_orphans`
  (CLI `documents cleanup-orphans`) removes such objects once they are older than a grace period.

Services flush, never commit.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from backend.agreements.repository import AgreementRepository
from backend.authz.principal import Principal
from backend.authz.service import authorize_unit
from backend.authz.vocabulary import Action
from backend.cases.repository import CaseRepository
from backend.core.clock import china_today, utc_now
from backend.core.storage import ObjectRetained, ObjectStorage, ObjectStream
from backend.documents import issuing
from backend.documents.errors import DocumentDestroyed, DocumentRejected, OwnerNotFound, RetentionNotPassed
from backend.documents.previews import render_preview
from backend.documents.repository import DocumentRepository
from backend.documents.storage import document_settings, document_storage
from backend.documents.storing import (
    STORED_AT_METADATA,
    NewFile,
    next_version_of,
    record,
    refuse_locked,
    snapshot,
    store_document,
    tenant_prefix,
)
from backend.info_queries.repository import InfoQueryRepository
from backend.models import Case, Document, DocumentKind, DocumentOwnerKind
from backend.persons.repository import PersonRepository

ORPHAN_GRACE = timedelta(hours=1)
# Kinds a client may upload; `issued` documents are only made by `issue_document`.
UPLOADABLE_KINDS = frozenset(DocumentKind) - {DocumentKind.issued}


# --- owners and reach ----------------------------------------------------------------------------------------


async def owner_unit(
    session: AsyncSession,
    principal: Principal,
    owner_kind: DocumentOwnerKind,
    owner_id: uuid.UUID,
    action: Action,
    *,
    org_unit_code: str | None = None,
) -> str:
    """The unit keeping the owner, if `action` is allowed there; 404 when it does not exist or is out of reach.

    A verification request lives on another branch of the product: it is not looked up here, and the
    caller names the unit handling it (`org_unit_code`), which must be in the caller's reach.
    """
    unit: str | None
    if owner_kind is DocumentOwnerKind.person:
        person = await PersonRepository(session).get(owner_id)
        unit = person.org_unit_code if person else None
    elif owner_kind is DocumentOwnerKind.case:
        case = await CaseRepository(session).get(owner_id)
        unit = case.org_unit_code if case else None
    elif owner_kind is DocumentOwnerKind.agreement:
        agreement = await AgreementRepository(session).get(owner_id)
        unit = agreement.org_unit_code if agreement else None
    elif owner_kind is DocumentOwnerKind.info_query:
        query = await InfoQueryRepository(session).get(owner_id)
        unit = query.org_unit_code if query else None
    else:
        if org_unit_code is None:
            raise DocumentRejected(
                "org_unit_code", "协查请求的材料须注明经办单位", "give the unit handling the verification request"
            )
        unit = org_unit_code
    if unit is None:
        raise OwnerNotFound()
    await authorize_unit(
        session,
        principal,
        action,
        unit,
        entity_type=owner_kind.value,
        entity_id=str(owner_id),
        not_found=OwnerNotFound(),
    )
    return unit


async def document_in_reach(
    session: AsyncSession, principal: Principal, document_id: uuid.UUID, action: Action, *, for_update: bool = False
) -> Document:
    """The document if `action` is allowed on the unit keeping it; 404 otherwise (or in another county)."""
    return await DocumentRepository(session).get_in_reach(principal, action, document_id, for_update=for_update)


async def case_documents(session: AsyncSession, principal: Principal, case: Case) -> list[Document]:
    """The documents of a case the caller already reached that she may read and that are not destroyed, newest
    first (the case page)."""
    documents = await DocumentRepository(session).for_owner(
        DocumentOwnerKind.case, case.id, principal.scopes_for(Action.document_read)
    )
    return [document for document in documents if document.destroyed_at is None]


# --- writing ------------------------------------------------------------------------------------------------


async def upload_document(
    session: AsyncSession,
    principal: Principal,
    *,
    owner_kind: DocumentOwnerKind,
    owner_id: uuid.UUID,
    kind: DocumentKind,
    file: NewFile,
    org_unit_code: str | None = None,
) -> Document:
    """Attach an uploaded scan to a person, case, agreement, information query or verification request
    (`document.write` on the owner's unit; 404 outside reach). A signed agreement scan goes through
    `attach_signed_scan`."""
    if kind not in UPLOADABLE_KINDS:
        raise DocumentRejected("kind", "该类型的材料只能由系统生成", "documents of this kind are only generated")
    unit = await owner_unit(
        session, principal, owner_kind, owner_id, Action.document_write, org_unit_code=org_unit_code
    )
    return await store_document(
        session, principal, owner_kind=owner_kind, owner_id=owner_id, org_unit_code=unit, kind=kind, file=file
    )


async def upload_new_version(
    session: AsyncSession, principal: Principal, document_id: uuid.UUID, file: NewFile
) -> Document:
    """A new version of a document: a new row and object pointing at the old one, which stays as it was
    (a signed scan stays locked; the new version of one is locked too)."""
    previous = await document_in_reach(session, principal, document_id, Action.document_write, for_update=True)
    if previous.destroyed_at is not None:
        raise DocumentDestroyed()
    if await DocumentRepository(session).superseded_by(previous.id) is not None:
        raise DocumentRejected(
            "document_id", "该材料已有新版本，请在最新版本上更新", "a newer version exists; update the latest one"
        )
    return await store_document(session, principal, file=file, **next_version_of(previous))


async def delete_document(session: AsyncSession, principal: Principal, document_id: uuid.UUID) -> Document:
    """Withdraw a scan attached by mistake: the object goes, the row stays as a tombstone (audited). A signed
    agreement scan is refused (and the attempt audited)."""
    document = await document_in_reach(session, principal, document_id, Action.document_write, for_update=True)
    if document.locked:
        await refuse_locked(session, document, "delete")
    if document.kind is DocumentKind.issued:
        raise DocumentRejected(
            "document_id", "出具的文书不能删除，请撤销", "an issued document is revoked, not deleted"
        )
    if document.destroyed_at is not None:
        raise DocumentDestroyed()
    await _destroy(session, document, principal, "withdrawn", action="document.delete")
    return document


async def _destroy(
    session: AsyncSession, document: Document, principal: Principal, reason: str, *, action: str
) -> None:
    document.destroyed_at = utc_now()
    document.destroyed_by = principal.label[:100]
    document.destruction_reason = reason
    await session.flush()
    await record(session, document, action, reason=reason, before=snapshot(document))
    # Last, as for writes: if the storage refuses, the request fails and the row keeps its object.
    storage = await document_storage()
    await storage.delete(document.object_key)


# --- reading -------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Download:
    """How to hand the bytes over: a presigned URL (S3) or a stream (local driver)."""

    document: Document
    url: str | None = None
    expires_at: datetime | None = None
    stream: ObjectStream | None = None


async def get_document(session: AsyncSession, principal: Principal, document_id: uuid.UUID) -> Document:
    """The document's metadata (`document.read`; 404 outside reach)."""
    return await document_in_reach(session, principal, document_id, Action.document_read)


async def list_documents(
    session: AsyncSession, principal: Principal, owner_kind: DocumentOwnerKind, owner_id: uuid.UUID, **kwargs: Any
) -> list[Document]:
    """An owner's documents, newest first (`document.read` on the owner's unit; 404 outside reach)."""
    await owner_unit(session, principal, owner_kind, owner_id, Action.document_read, **kwargs)
    return await DocumentRepository(session).for_owner(owner_kind, owner_id, principal.scopes_for(Action.document_read))


async def _readable(session: AsyncSession, principal: Principal, document_id: uuid.UUID) -> Document:
    document = await document_in_reach(session, principal, document_id, Action.document_read)
    if document.destroyed_at is not None:
        raise DocumentDestroyed()
    return document


async def download(session: AsyncSession, principal: Principal, document_id: uuid.UUID) -> Download:
    """An authorized, audited download: a short-lived presigned URL on S3, an opened stream otherwise."""
    document = await _readable(session, principal, document_id)
    settings = document_settings()
    storage = await document_storage()
    lifetime = timedelta(seconds=settings.presigned_url_seconds)
    url = await storage.presigned_get_url(document.object_key, expires=lifetime, download_name=document.display_name)
    result = (
        Download(document=document, url=url, expires_at=utc_now() + lifetime)
        if url is not None
        else Download(document=document, stream=await storage.open_stream(document.object_key))
    )
    await record(
        session,
        document,
        "document.download",
        via="presigned_url" if url is not None else "stream",
        sha256=document.sha256,
    )
    return result


async def preview(session: AsyncSession, principal: Principal, document_id: uuid.UUID, *, width: int) -> bytes:
    """A PNG thumbnail of an image or of a PDF's first page (audited as a read)."""
    document = await _readable(session, principal, document_id)
    storage = await document_storage()
    data = await storage.get(document.object_key)
    png = await render_preview(data, document.media_type, width=width)
    await record(session, document, "document.preview")
    return png


# --- retention -------------------------------------------------------------------------------------------------


async def past_retention(
    session: AsyncSession, principal: Principal, *, offset: int, limit: int
) -> tuple[list[Document], int]:
    """Documents past their retention day, not destroyed yet, where the caller holds `document.destroy`."""
    roots = principal.scopes_for(Action.document_destroy)
    return await DocumentRepository(session).past_retention(roots, china_today(), offset=offset, limit=limit)


async def destroy_document(
    session: AsyncSession, principal: Principal, document_id: uuid.UUID, reason: str
) -> Document:
    """An administrator approves destroying one document past retention: the object goes, the row stays as
    a tombstone saying who approved it and why (audited)."""
    document = await document_in_reach(session, principal, document_id, Action.document_destroy, for_update=True)
    if document.destroyed_at is not None:
        raise DocumentDestroyed()
    if document.retain_until >= china_today():
        raise RetentionNotPassed(document.retain_until.isoformat())
    try:
        await _destroy(session, document, principal, reason, action="document.destroy")
    except ObjectRetained:
        raise RetentionNotPassed(document.retain_until.isoformat()) from None
    return document


# --- issued documents ----------------------------------------------------------------------------------------

# The entry point for other domains (a verification request letter, a refusal letter): issuing renders, stores and
# registers the document (see `backend.documents.issuing.issue_document`).
issue_document = issuing.issue_document


# --- orphans ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OrphanCleanup:
    examined: int
    removed: list[str]
    kept_recent: int
    kept_retained: int


async def cleanup_orphans(
    session: AsyncSession, storage: ObjectStorage, *, grace: timedelta = ORPHAN_GRACE
) -> OrphanCleanup:
    """Remove this county's objects that have no document row and are older than `grace` (a write whose
    commit failed). Younger ones may belong to a request still running; retained ones cannot be removed
    before their date and are reported."""
    repository = DocumentRepository(session)
    keys = await storage.list_keys(tenant_prefix(repository.tenant_id))
    known = await repository.known_keys(keys)
    removed: list[str] = []
    kept_recent = kept_retained = 0
    cutoff = utc_now() - grace
    for key in keys:
        if key in known:
            continue
        stored = await storage.stat(key)
        if stored is None:
            continue
        stored_at = stored.metadata.get(STORED_AT_METADATA)
        if stored_at is not None and datetime.fromisoformat(stored_at.replace("Z", "+00:00")) > cutoff:
            kept_recent += 1
            continue
        try:
            await storage.delete(key)
        except ObjectRetained:
            kept_retained += 1
            continue
        removed.append(key)
    return OrphanCleanup(examined=len(keys), removed=removed, kept_recent=kept_recent, kept_retained=kept_retained)
