"""Pydantic models of the documents API."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from backend.models import (
    AgreementKind,
    DocumentKind,
    DocumentOwnerKind,
    IssuedDocumentKind,
    IssuedDocumentStatus,
)

UnitCode = Annotated[str, StringConstraints(pattern=r"^([0-9]{6}|[0-9]{9}|[0-9]{12})$")]
Text100 = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


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


class AgreementParty(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)] = Field(
        description="landlord 房东, employer 用工单位, woman 育龄妇女, county 县（区）, township 乡镇 ..."
    )
    name: Text100


class AgreementCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: AgreementKind
    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    parties: list[AgreementParty] = Field(min_length=2, max_length=10)
    template_name: Text100 | None = None
    signed_on: date
    valid_from: date
    valid_until: date | None = None
    person_id: uuid.UUID | None = None
    org_unit_code: UnitCode | None = None


class AgreementRenew(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)] | None = None
    parties: list[AgreementParty] | None = Field(default=None, min_length=2, max_length=10)
    template_name: Text100 | None = None
    signed_on: date
    valid_from: date
    valid_until: date | None = None


class AgreementRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    kind: AgreementKind
    title: str
    parties: list[dict[str, Any]]
    template_name: str | None
    signed_on: date
    valid_from: date
    valid_until: date | None
    org_unit_code: str
    person_id: uuid.UUID | None
    renews_id: uuid.UUID | None
    signed_document_id: uuid.UUID | None
    version: int
    created_at: datetime


class DestructionApproval(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=500)]


class Revocation(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=500)]


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


class IssueRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: IssuedDocumentKind
    context: dict[str, Any] = Field(default_factory=dict, description="Template fields, e.g. reason 理由")
    valid_until: date | None = None


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


class VerificationRead(BaseModel):
    """What the public verification page confirms: nothing about the person."""

    number: str
    kind: IssuedDocumentKind
    kind_label: str
    issuing_unit_name: str
    issue_date: date
    valid_until: date | None
    status: IssuedDocumentStatus
