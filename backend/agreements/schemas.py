"""Pydantic models of the agreements API."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from backend.models import AgreementKind

UnitCode = Annotated[str, StringConstraints(pattern=r"^([0-9]{6}|[0-9]{9}|[0-9]{12})$")]
Text100 = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


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
