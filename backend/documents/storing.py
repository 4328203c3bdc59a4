"""Storing a document: the checks on the bytes, the row and its audit event, then the object, last.

Every way a document comes in goes through `store_document`: an uploaded scan (backend/documents/service.py), a
new version, an agreement's signed scan (backend/agreements/service.py) and an issued PDF
(backend/documents/issuing.py).

- The type is decided by sniffing the bytes (PDF, JPEG, PNG, TIFF), never by the name or the client's
  Content-Type; the size limit comes from the settings; the SHA-256 is recorded; the object key is made by the
  server under the county's prefix (`tenants/<tenant id>/documents/<document id>.<ext>`); the client's file
  name survives only as sanitised display text.
- The row (and its audit event) is flushed first and the object is written last, so a refused or failed write
  of either rolls the request back with nothing stored. The one gap left, a commit that fails after the object
  was written, leaves an object without a row: `cleanup_orphans` removes such objects after a grace period.
- A locked document (a signed agreement scan) is stored with a retention date, which the storage port refuses
  to overwrite or delete and which S3 object lock enforces on servers that support it.
"""

from __future__ import annotations

import asyncio
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
from backend.core.clock import china_today, utc_now
from backend.core.storage import ObjectStorage
from backend.documents.errors import SignedScanLocked, UploadBadFileName
from backend.documents.repository import DocumentRepository
from backend.documents.retention import retain_until_for
from backend.documents.sniffing import sanitize_display_name, sniff_upload
from backend.documents.storage import document_settings, document_storage
from backend.models import Document, DocumentKind, DocumentOwnerKind

ENTITY_TYPE = DocumentRepository.entity_type
STORED_AT_METADATA = "stored-at"


@dataclass(frozen=True, slots=True)
class NewFile:
    """An uploaded or generated file: its bytes and the name its client gave it (display only)."""

    data: bytes
    filename: str


def kept_with(owner_kind: DocumentOwnerKind, owner: Any) -> dict[str, Any]:
    """The owner fields of a document attached to `owner` (a case, a person, an agreement), kept by its unit."""
    return {"owner_kind": owner_kind, "owner_id": owner.id, "org_unit_code": owner.org_unit_code}


def next_version_of(document: Document) -> dict[str, Any]:
    """What a new version of `document` keeps: its owner, unit, kind and lock, and the link to it."""
    kept = {name: getattr(document, name) for name in ("owner_kind", "owner_id", "org_unit_code", "kind", "locked")}
    return kept | {"supersedes": document}


def tenant_prefix(tenant_id: uuid.UUID) -> str:
    """Where all of one county's document objects live."""
    return f"tenants/{tenant_id}/documents/"


def _end_of_day(day: date) -> datetime:
    # Retention lasts through the whole last day, in China time (UTC+8); midnight UTC of the next day is later.
    return datetime.combine(day + timedelta(days=1), time(), tzinfo=UTC)


async def record(
    session: AsyncSession, document: Document, action: str, *, reason: str | None = None, **changes: Any
) -> None:
    """Append an event of the document to the audit log, on the unit keeping it (`changes` as given, if any)."""
    where: dict[str, Any] = {
        "entity_type": ENTITY_TYPE,
        "entity_id": document.id,
        "org_unit_code": document.org_unit_code,
    }
    await audit.record(session, action=action, changes=changes or None, reason=reason, **where)


def snapshot(document: Document) -> dict[str, Any]:
    """The audited fields of a document (no display name: it may carry a person's name)."""
    fields = ("owner_kind", "owner_id", "kind", "org_unit_code", "sha256", "size_bytes", "media_type", "locked")
    values = {name: getattr(document, name) for name in fields} | {
        "supersedes_id": document.supersedes_id,
        "retain_until": document.retain_until,
    }
    return dict(to_jsonable_python(values))


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
    # The checks parse untrusted bytes (a PDF's structure in a child process, with a deadline of seconds): in a
    # worker thread, so a slow one holds up this upload only, never the other requests on the event loop.
    sniffed = await asyncio.to_thread(sniff_upload, file.data, max_bytes=settings.upload_max_bytes)
    storage = storage or await document_storage()
    repository = DocumentRepository(session)
    document_id = uuid.uuid4()
    tenant_id = repository.tenant_id
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
        retain_until=retain_until_for(settings, kind, china_today()),
    )
    repository.add(document)
    await repository.flush()
    await record(
        session, document, "document.upload" if supersedes is None else "document.new_version", after=snapshot(document)
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


async def refuse_locked(session: AsyncSession, document: Document, attempted: str) -> None:
    """Audit the refused attempt on a signed scan (kept: the endpoint commits the refusal), then refuse."""
    await record(session, document, f"document.{attempted}_refused", reason="signed agreement scan is locked")
    raise SignedScanLocked()
