"""Documents (材料): upload, read, versions, signed agreements, retention; the rules.

- Upload: the type is decided by sniffing the bytes (PDF, JPEG, PNG, TIFF), never by the name or the
  client's Content-Type; the size limit comes from the settings; the SHA-256 is recorded; the object key is
  made by the server under the county's prefix (`tenants/<tenant id>/documents/<document id>.<ext>`); the
  client's file name survives only as sanitised display text.
- Object and row: the row (and its audit event) is flushed first and the object is written last, so a
  refused or failed write of either rolls the request back with nothing stored. The one gap left, a commit
  that fails after the object was written, leaves an object without a row: `cleanup_orphans` (CLI
  `documents cleanup-orphans`) removes such objects once they are older than a grace period.
- Reading: `document.read` on the unit keeping the document (the owner's unit at upload time); anything
  else answers 404, so no presigned URL can be obtained. Every download and preview is audited with the
  reader.
- Signed agreement scans are `locked`: a request to replace or delete one is refused here, always, and the
  refusal is audited; the object is also stored with a retention date, which the storage port refuses to
  overwrite or delete and which S3 object lock enforces on servers that support it. A new version is a new
  row and a new object pointing at the old one.
- Retention: each kind has a period (backend/documents/retention.py); nothing is deleted automatically; an
  administrator destroys documents past retention one by one, audited.

Services flush, never commit.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from pydantic_core import to_jsonable_python
from sqlalchemy.ext.asyncio import AsyncSession

from backend.audit import service as audit
from backend.authz.principal import Principal
from backend.authz.service import authorize_unit
from backend.authz.vocabulary import Action
from backend.cases.repository import CaseRepository
from backend.core.clock import china_today, utc_now
from backend.core.errors import NotFound
from backend.core.storage import ObjectRetained, ObjectStorage, ObjectStream
from backend.db.tenancy import current_tenant_id
from backend.documents.errors import (
    AgreementNotFound,
    DocumentDestroyed,
    DocumentNotFound,
    DocumentRejected,
    OwnerNotFound,
    RetentionNotPassed,
    SignedScanLocked,
    UploadBadFileName,
)
from backend.documents.previews import render_preview
from backend.documents.repository import AgreementFilters, DocumentRepository
from backend.documents.retention import retain_until_for
from backend.documents.schemas import AgreementCreate, AgreementRenew
from backend.documents.sniffing import sanitize_display_name, sniff_upload
from backend.documents.storage import document_settings, document_storage
from backend.models import (
    Agreement,
    Document,
    DocumentKind,
    DocumentOwnerKind,
    IssuedDocument,
    IssuedDocumentKind,
)
from backend.persons.repository import PersonRepository

ENTITY_TYPE = "document"
AGREEMENT_ENTITY_TYPE = "agreement"
STORED_AT_METADATA = "stored-at"
ORPHAN_GRACE = timedelta(hours=1)
# Kinds a client may upload; `issued` documents are only made by `issue_document`.
UPLOADABLE_KINDS = frozenset(DocumentKind) - {DocumentKind.issued}


def tenant_prefix(tenant_id: uuid.UUID) -> str:
    """Where all of one county's document objects live."""
    return f"tenants/{tenant_id}/documents/"


def _end_of_day(day: date) -> datetime:
    # Retention lasts through the whole last day, in China time (UTC+8); midnight UTC of the next day is later.
    return datetime.combine(day + timedelta(days=1), time(), tzinfo=UTC)


def snapshot(document: Document) -> dict[str, Any]:
    """The audited fields of a document (no display name: it may carry a person's name)."""
    fields = ("owner_kind", "owner_id", "kind", "org_unit_code", "sha256", "size_bytes", "media_type", "locked")
    values = {name: getattr(document, name) for name in fields} | {
        "supersedes_id": document.supersedes_id,
        "retain_until": document.retain_until,
    }
    return dict(to_jsonable_python(values))


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
        agreement = await DocumentRepository(session).agreement(owner_id)
        unit = agreement.org_unit_code if agreement else None
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
    session: AsyncSession,
    principal: Principal,
    document_id: uuid.UUID,
    action: Action,
    *,
    for_update: bool = False,
    not_found: NotFound | None = None,
) -> Document:
    """The document if `action` is allowed on the unit keeping it; 404 otherwise (or in another county)."""
    repository = DocumentRepository(session)
    document = await repository.get(document_id)
    if document is None:
        raise not_found or DocumentNotFound()
    await authorize_unit(
        session,
        principal,
        action,
        document.org_unit_code,
        entity_type=ENTITY_TYPE,
        entity_id=str(document.id),
        not_found=not_found or DocumentNotFound(),
    )
    if for_update:
        locked = await repository.get(document_id, for_update=True)
        if locked is None:  # pragma: no cover - rows are never deleted
            raise DocumentNotFound()
        return locked
    return document


# --- storing -------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NewFile:
    """An uploaded or generated file: its bytes and the name its client gave it (display only)."""

    data: bytes
    filename: str


async def store_document(
    session: AsyncSession,
    principal: Principal,
    *,
    owner_kind: DocumentOwnerKind,
    owner_id: uuid.UUID,
    org_unit_code: str,
    kind: DocumentKind,
    file: NewFile,
    locked: bool = False,
    supersedes: Document | None = None,
    storage: ObjectStorage | None = None,
    before_write: Callable[[Document], Awaitable[None]] | None = None,
) -> Document:
    """Check `file`, add its row and audit event (flushed), run the caller's own database work
    (`before_write`, e.g. linking the scan to its agreement), then write the object, last: any failure
    before it rolls the request back with nothing stored, and a failed write rolls back every row. The caller
    has authorized the write on `org_unit_code`. Raises an `UploadRejected` before anything is written."""
    settings = document_settings()
    if "/" in file.filename or "\\" in file.filename or file.filename.strip() in {".", ".."}:
        raise UploadBadFileName()
    sniffed = sniff_upload(file.data, max_bytes=settings.upload_max_bytes)
    storage = storage or await document_storage()
    document_id = uuid.uuid4()
    tenant_id = current_tenant_id(session)
    today = china_today()
    document = Document(
        id=document_id,
        tenant_id=tenant_id,
        owner_kind=owner_kind,
        owner_id=owner_id,
        kind=kind,
        org_unit_code=org_unit_code,
        object_key=f"{tenant_prefix(tenant_id)}{document_id}.{sniffed.extension}",
        sha256=hashlib.sha256(file.data).hexdigest(),
        size_bytes=len(file.data),
        media_type=sniffed.media_type,
        display_name=sanitize_display_name(file.filename),
        uploaded_by_id=principal.id,
        uploaded_by_label=principal.label[:100],
        locked=locked,
        supersedes_id=supersedes.id if supersedes else None,
        retain_until=retain_until_for(settings, kind, today),
    )
    DocumentRepository(session).add(document)
    await session.flush()
    await audit.record(
        session,
        action="document.upload" if supersedes is None else "document.new_version",
        entity_type=ENTITY_TYPE,
        entity_id=document.id,
        org_unit_code=org_unit_code,
        changes={"after": snapshot(document)},
    )
    if before_write is not None:
        await before_write(document)
    # Last: if the object cannot be written the request fails and the rows above are rolled back.
    stored = await storage.put(
        document.object_key,
        file.data,
        content_type=sniffed.media_type,
        metadata={STORED_AT_METADATA: utc_now().strftime("%Y-%m-%dT%H:%M:%SZ")},
        retain_until=_end_of_day(document.retain_until) if locked else None,
    )
    if stored.sha256 != document.sha256:  # pragma: no cover - the port hashes the same bytes
        await storage.delete(document.object_key)
        raise RuntimeError("stored object digest differs from the uploaded bytes")
    return document


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
    """Attach an uploaded scan to a person, case, agreement or verification request (`document.write` on the
    owner's unit; 404 outside reach). A signed agreement scan goes through `attach_signed_scan`."""
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
    return await store_document(
        session,
        principal,
        owner_kind=previous.owner_kind,
        owner_id=previous.owner_id,
        org_unit_code=previous.org_unit_code,
        kind=previous.kind,
        file=file,
        locked=previous.locked,
        supersedes=previous,
    )


async def _refuse_locked(session: AsyncSession, document: Document, attempted: str) -> None:
    """Audit the refused attempt on a signed scan (kept: the endpoint commits the refusal), then refuse."""
    await audit.record(
        session,
        action=f"document.{attempted}_refused",
        entity_type=ENTITY_TYPE,
        entity_id=document.id,
        org_unit_code=document.org_unit_code,
        reason="signed agreement scan is locked",
    )
    raise SignedScanLocked()


async def delete_document(session: AsyncSession, principal: Principal, document_id: uuid.UUID) -> Document:
    """Withdraw a scan attached by mistake: the object goes, the row stays as a tombstone (audited). A signed
    agreement scan is refused (and the attempt audited)."""
    document = await document_in_reach(session, principal, document_id, Action.document_write, for_update=True)
    if document.locked:
        await _refuse_locked(session, document, "delete")
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
    await audit.record(
        session,
        action=action,
        entity_type=ENTITY_TYPE,
        entity_id=document.id,
        org_unit_code=document.org_unit_code,
        reason=reason,
        changes={"before": snapshot(document)},
    )
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
    await audit.record(
        session,
        action="document.download",
        entity_type=ENTITY_TYPE,
        entity_id=document.id,
        org_unit_code=document.org_unit_code,
        changes={"via": "presigned_url" if url is not None else "stream", "sha256": document.sha256},
    )
    return result


async def preview(session: AsyncSession, principal: Principal, document_id: uuid.UUID, *, width: int) -> bytes:
    """A PNG thumbnail of an image or of a PDF's first page (audited as a read)."""
    document = await _readable(session, principal, document_id)
    storage = await document_storage()
    data = await storage.get(document.object_key)
    png = await render_preview(data, document.media_type, width=width)
    await audit.record(
        session,
        action="document.preview",
        entity_type=ENTITY_TYPE,
        entity_id=document.id,
        org_unit_code=document.org_unit_code,
    )
    return png


# --- responsibility agreements ---------------------------------------------------------------------------------


def agreement_snapshot(agreement: Agreement) -> dict[str, Any]:
    fields = (
        "kind",
        "title",
        "parties",
        "template_name",
        "signed_on",
        "valid_from",
        "valid_until",
        "org_unit_code",
        "person_id",
        "renews_id",
        "signed_document_id",
    )
    return dict(to_jsonable_python({name: getattr(agreement, name) for name in fields}))


async def _agreement_unit(session: AsyncSession, principal: Principal, body: AgreementCreate) -> str:
    if body.person_id is not None:
        return await owner_unit(session, principal, DocumentOwnerKind.person, body.person_id, Action.document_write)
    if body.org_unit_code is None:
        raise DocumentRejected("org_unit_code", "须注明协议所属单位或人员", "give the agreement's unit or person")
    await authorize_unit(
        session,
        principal,
        Action.document_write,
        body.org_unit_code,
        entity_type="org_unit",
        entity_id=body.org_unit_code,
        not_found=OwnerNotFound(),
    )
    return body.org_unit_code


def _check_validity(body: AgreementCreate) -> None:
    if body.valid_until is not None and body.valid_until < body.valid_from:
        raise DocumentRejected("valid_until", "有效期止日早于起始日", "the validity ends before it starts")
    if body.valid_from < body.signed_on - timedelta(days=366):
        raise DocumentRejected("valid_from", "有效期起始日早于签订日一年以上", "validity starts long before signing")


async def create_agreement(
    session: AsyncSession, principal: Principal, body: AgreementCreate, *, renews: Agreement | None = None
) -> Agreement:
    """Record an agreement (its signed scan is attached afterwards with `attach_signed_scan`)."""
    _check_validity(body)
    unit = renews.org_unit_code if renews is not None else await _agreement_unit(session, principal, body)
    agreement = Agreement(
        id=uuid.uuid4(),
        tenant_id=current_tenant_id(session),
        kind=body.kind,
        title=body.title,
        parties=[party.model_dump() for party in body.parties],
        template_name=body.template_name,
        signed_on=body.signed_on,
        valid_from=body.valid_from,
        valid_until=body.valid_until,
        org_unit_code=unit,
        person_id=renews.person_id if renews is not None else body.person_id,
        renews_id=renews.id if renews is not None else None,
    )
    DocumentRepository(session).add(agreement)
    await session.flush()
    await audit.record(
        session,
        action="agreement.renew" if renews else "agreement.create",
        entity_type=AGREEMENT_ENTITY_TYPE,
        entity_id=agreement.id,
        org_unit_code=unit,
        changes={"after": agreement_snapshot(agreement)},
    )
    return agreement


async def agreement_in_reach(
    session: AsyncSession, principal: Principal, agreement_id: uuid.UUID, action: Action, *, for_update: bool = False
) -> Agreement:
    repository = DocumentRepository(session)
    agreement = await repository.agreement(agreement_id)
    if agreement is None:
        raise AgreementNotFound()
    await authorize_unit(
        session,
        principal,
        action,
        agreement.org_unit_code,
        entity_type=AGREEMENT_ENTITY_TYPE,
        entity_id=str(agreement.id),
        not_found=AgreementNotFound(),
    )
    if for_update:
        agreement = await repository.agreement(agreement_id, for_update=True) or agreement
    return agreement


async def list_agreements(
    session: AsyncSession, principal: Principal, filters: AgreementFilters, *, offset: int, limit: int
) -> tuple[list[Agreement], int]:
    """Agreements kept by units where the caller holds `document.read`, filtered; a unit filter outside that
    reach lists nothing (no 403: the list simply has no rows there)."""
    return await DocumentRepository(session).list_agreements(
        principal.scopes_for(Action.document_read), filters, china_today(), offset=offset, limit=limit
    )


async def agreement_renewals(session: AsyncSession, principal: Principal, agreement: Agreement) -> list[Agreement]:
    """The renewals (续签) of an agreement the caller may read, within their reach."""
    renewals = await DocumentRepository(session).renewals_of(agreement.id)
    return [renewal for renewal in renewals if principal.can(Action.document_read, renewal.org_unit_code)]


async def renew_agreement(
    session: AsyncSession, principal: Principal, agreement_id: uuid.UUID, body: AgreementRenew
) -> Agreement:
    """A renewal (续签): a new agreement pointing at the old one, with its own signed scan to attach."""
    previous = await agreement_in_reach(session, principal, agreement_id, Action.document_write, for_update=True)
    create = AgreementCreate(
        kind=previous.kind,
        title=body.title or previous.title,
        parties=body.parties if body.parties is not None else previous.parties,
        template_name=body.template_name or previous.template_name,
        signed_on=body.signed_on,
        valid_from=body.valid_from,
        valid_until=body.valid_until,
        org_unit_code=previous.org_unit_code,
    )
    return await create_agreement(session, principal, create, renews=previous)


async def attach_signed_scan(
    session: AsyncSession, principal: Principal, agreement_id: uuid.UUID, file: NewFile
) -> Document:
    """Attach the signed scan of an agreement: stored locked. Once attached it cannot be replaced: a second
    attempt is refused and audited (a corrected scan is a new version of the document)."""
    agreement = await agreement_in_reach(session, principal, agreement_id, Action.document_write, for_update=True)
    if agreement.signed_document_id is not None:
        signed = await DocumentRepository(session).get(agreement.signed_document_id)
        assert signed is not None
        await _refuse_locked(session, signed, "replace")

    async def link(document: Document) -> None:
        agreement.signed_document_id = document.id
        agreement.version += 1
        await session.flush()
        await audit.record(
            session,
            action="agreement.sign",
            entity_type=AGREEMENT_ENTITY_TYPE,
            entity_id=agreement.id,
            org_unit_code=agreement.org_unit_code,
            changes={"signed_document_id": str(document.id), "sha256": document.sha256},
        )

    document = await store_document(
        session,
        principal,
        owner_kind=DocumentOwnerKind.agreement,
        owner_id=agreement.id,
        org_unit_code=agreement.org_unit_code,
        kind=DocumentKind.agreement,
        file=file,
        locked=True,
        before_write=link,
    )
    return document


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


async def issue_document(
    session: AsyncSession,
    principal: Principal,
    kind: IssuedDocumentKind,
    case_id: uuid.UUID,
    context: dict[str, Any],
    *,
    valid_until: date | None = None,
) -> IssuedDocument:
    """Issue a document for a case from the county's template (see `backend.documents.issuing.issue_document`):
    the entry point for other domains, e.g. a verification request letter or a refusal letter."""
    from backend.documents.issuing import issue_document as issue  # issuing builds on this module

    return await issue(session, principal, kind, case_id, context, valid_until=valid_until)


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
    keys = await storage.list_keys(tenant_prefix(current_tenant_id(session)))
    known = await DocumentRepository(session).known_keys(keys)
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
