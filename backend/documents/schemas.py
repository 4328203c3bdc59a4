"""Pydantic models of the documents API."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from backend.core.input import AnyDate, JsonObject, MultilineText
from backend.core.schemas import InputSchema
from backend.models import DocumentKind, DocumentOwnerKind, IssuedDocumentKind, IssuedDocumentStatus


class DocumentRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    owner_kind: DocumentOwnerKind
    owner_id: uuid.UUID
    kind: DocumentKind
    org_unit_code: str
    sha256: str
    size_bytes: int
    media_type: str
    display_name: str
    uploaded_by_label: str
    locked: bool
    supersedes_id: uuid.UUID | None
    retain_until: date
    destroyed_at: datetime | None
    created_at: datetime


class DownloadLink(BaseModel):
    """A presigned URL, valid until `expires_at` (S3 driver)."""

    url: str
    expires_at: datetime


Reason = Annotated[str, MultilineText(500, min_length=2)]


class DestructionApproval(InputSchema):
    reason: Reason


class Revocation(InputSchema):
    reason: Reason


class RetentionItem(BaseModel):
    """A document past retention, without its display name (it may carry a person's name)."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    kind: DocumentKind
    owner_kind: DocumentOwnerKind
    org_unit_code: str
    size_bytes: int
    created_at: datetime
    retain_until: date
    locked: bool


class IssueRequest(InputSchema):
    kind: IssuedDocumentKind
    context: Annotated[dict[str, Any], JsonObject(max_bytes=8 * 1024)] = Field(
        default_factory=dict, description="Template fields, e.g. reason 理由"
    )
    valid_until: AnyDate | None = None


class IssuedDocumentRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    kind: IssuedDocumentKind
    number: str
    case_id: uuid.UUID
    document_id: uuid.UUID
    issuing_unit_code: str
    issuing_unit_name: str
    issue_date: date
    valid_until: date | None
    status: IssuedDocumentStatus
    verify_url: str


class IssuedDocumentVerificationRead(BaseModel):
    """What the public verification page confirms: nothing about the person."""

    number: str
    kind: IssuedDocumentKind
    kind_label: str
    issuing_unit_name: str
    issue_date: date
    valid_until: date | None
    status: IssuedDocumentStatus
