"""Request and response bodies of the certificate register (婚育证明登记)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated

from pydantic import Field

from backend.core.input import AnyDate, Code, MultilineText, PastDate, Text, UnitCode
from backend.core.schemas import InputSchema, OutputSchema
from backend.models import CertificateStatus, InspectionResult

DivisionCode = UnitCode
# Printed numbers mix digits, Latin letters, Chinese characters and a few separators (浙杭西字第2024-001号).
CertificateNumber = Annotated[str, Code(r"^[0-9A-Za-z\u4e00-\u9fff()（）\-_/.#]{1,40}$", 40)]


class CertificateIssue(InputSchema):
    """Issue a certificate, or record one issued by another county that the person showed on arrival.

    `issuing_unit_code` is a township of this county (9 digits; the name comes from the org tree) or a 6-, 9-
    or 12-digit division code elsewhere, with `issuing_unit_name` as printed on the certificate.
    """

    number: CertificateNumber
    issue_date: PastDate = Field(description="发证日期: today or earlier")
    issuing_unit_code: DivisionCode
    issuing_unit_name: Annotated[str, Text(100, min_length=1)] | None = None
    issued_by_proxy: bool = Field(default=False, description="家人代办: a family member applied for her")
    proxy_name: Annotated[str, Text(50, min_length=1)] | None = None
    permanent: bool = Field(default=False, description="长期有效: only when sterilisation is recorded for the person")
    valid_until: AnyDate | None = Field(
        default=None, description="Optional check: computed as issue_date + 3 years; anything else is refused"
    )


class CertificateRenew(CertificateIssue):
    """换领: the new certificate's details, and the version of the old one you read."""

    version: int = Field(description="The old certificate's version; a stale one answers 409")


class CertificateRevoke(InputSchema):
    reason: Annotated[str, MultilineText(500, min_length=2)] = Field(description="注销理由")
    version: int = Field(description="The version you read; a stale one answers 409")


class InspectionCreate(InputSchema):
    inspected_on: PastDate
    result: InspectionResult
    notes: Annotated[str, MultilineText(2000)] | None = Field(
        default=None, description="Required when the result is status_changed: what changed"
    )


class InspectionRead(OutputSchema):
    id: uuid.UUID
    certificate_id: uuid.UUID
    inspected_on: date
    result: InspectionResult
    notes: str | None
    inspector_id: uuid.UUID | None
    inspector_name: str
    org_unit_code: str


class CertificateListItem(OutputSchema):
    id: uuid.UUID
    person_id: uuid.UUID
    number: str
    issue_date: date
    issuing_unit_code: str
    issuing_unit_name: str
    issued_elsewhere: bool = Field(description="Issued by another county (recorded on arrival)")
    permanent: bool
    valid_until: date | None
    status: CertificateStatus = Field(description="expired once valid_until has passed (China time)")
    expires_in_days: int | None = Field(
        description="Days until valid_until (negative when past); null when permanent or no longer in force"
    )
    inspection_due: bool = Field(
        description="An inspection is due: never inspected, or not in the last 365 days (residents here only)"
    )
    last_inspected_on: date | None
    next_inspection_on: date | None
    issued_by_proxy: bool
    proxy_name: str | None
    renews_id: uuid.UUID | None
    renewed_by_id: uuid.UUID | None
    org_unit_code: str
    version: int
    created_at: datetime
    updated_at: datetime


class CertificateRead(CertificateListItem):
    revocation_reason: str | None = None
    inspections: list[InspectionRead] = Field(default_factory=list)
