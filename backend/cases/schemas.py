from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from backend.case_types.schemas import CaseTypeCode, SignoffStepRead
from backend.core.input import JsonObject, MultilineText, Omittable, PastDateTime, Text, UnitCode
from backend.core.schemas import InputSchema, OutputSchema
from backend.models import CaseOutcome, CasePriority, CaseStage, CaseStatus
from workflows.cases.types import MAX_EXTENSION_WORKING_DAYS, CaseAction

Reason = Annotated[str, MultilineText(2000, min_length=2)]
Title = Annotated[str, Text(200, min_length=1)]
# A case's free-form details (the case type's own fields): 16 KiB of JSON at most, read back on every view.
Details = Annotated[dict[str, Any], JsonObject(max_bytes=16 * 1024)]


class CaseSubjectIn(InputSchema):
    """A person the case is about: a registered person, by id or by ID number (身份证号码, which the case service
    looks up among the registered persons the caller may read)."""

    person_id: uuid.UUID | None
    resident_id: Annotated[str, Text(40, min_length=1)] | None = Field(
        default=None, description="instead of person_id: the registered person's ID number"
    )
    part: Literal["subject", "applicant", "spouse", "child", "other"] = "subject"

    @model_validator(mode="before")
    @classmethod
    def _by_resident_id(cls, data: Any) -> Any:
        # person_id is required unless the ID number is given instead.
        if isinstance(data, dict) and data.get("resident_id") is not None and "person_id" not in data:
            return {**data, "person_id": None}
        return data

    @model_validator(mode="after")
    def _one_way(self) -> CaseSubjectIn:
        if (self.person_id is None) == (self.resident_id is None):
            raise ValueError("give person_id or resident_id, not both")
        return self


class ArrivalChannel(StrEnum):
    in_person = "in_person"  # 当面受理
    platform = "platform"  # 平台（本系统）
    registered_mail = "registered_mail"  # 挂号信：以签收日期为准
    fax = "fax"  # 传真：以传真件上打印的时间为准
    phone = "phone"  # 电话：以通话记录时间为准


class Arrival(InputSchema):
    """How a request arrived. By the norm, the clock starts at the signed-for date of registered mail, the
    time printed on a fax, or the time in the call record; those channels need that time and its evidence."""

    channel: ArrivalChannel = ArrivalChannel.in_person
    at: PastDateTime | None = Field(default=None, description="signed-for / printed / call-record time")
    evidence: Annotated[str, Text(300, min_length=2)] | None = Field(
        default=None, description="tracking number, fax header, call-record reference ..."
    )
    evidence_document_id: uuid.UUID | None = None


class CaseCreate(InputSchema):
    case_type: CaseTypeCode
    org_unit_code: UnitCode
    title: Title | None = None
    subjects: list[CaseSubjectIn] = Field(default_factory=list, max_length=20)
    priority: CasePriority = CasePriority.normal
    received_at: PastDateTime | None = Field(default=None, description="When the request arrived; defaults to now")
    arrival: Arrival = Field(default_factory=Arrival)
    details: Details = Field(default_factory=dict)


class CaseUpdate(InputSchema):
    """Change some fields; a field left out keeps its value (null is refused: these are never empty)."""

    version: int
    title: Omittable[Title] = None
    priority: Omittable[CasePriority] = None
    details: Omittable[Details] = None


class AssignRequest(InputSchema):
    assignee_id: uuid.UUID | None = Field(description="null returns the case to the unit's queue")
    version: int | None = None


class BulkReassign(InputSchema):
    case_ids: list[uuid.UUID] = Field(min_length=1, max_length=500)
    assignee_id: uuid.UUID


class CaseActionRequest(InputSchema):
    """A human action on a case; it reaches the case workflow through the outbox."""

    version: int
    action: CaseAction
    reason: Reason | None = None
    outcome: CaseOutcome | None = None
    extension_working_days: int | None = Field(default=None, ge=1, le=MAX_EXTENSION_WORKING_DAYS)
    step: Annotated[str, Text(40, 1)] | None = Field(
        default=None, description="`sign`: the signature step the case waits for (`pending_step.key`)"
    )
    attest: bool = Field(default=False, description="`sign`: the signer confirms the step's attestation")
    note: Annotated[str, MultilineText(2000, 1)] | None = Field(
        default=None, description="`sign`: the signer's own words, recorded with the signature"
    )


class CaseActionAccepted(OutputSchema):
    request_id: uuid.UUID
    status: Literal["pending", "done", "rejected"]
    result: dict[str, Any] | None = None


class CaseLinkCreate(InputSchema):
    linked_case_id: uuid.UUID
    kind: Literal["related", "follow_up", "duplicate"] = "related"


class CaseSubjectRead(OutputSchema):
    person_id: uuid.UUID
    part: str


class CaseLinkRead(OutputSchema):
    linked_case_id: uuid.UUID
    kind: str


class CaseListItem(OutputSchema):
    id: uuid.UUID
    number: str
    case_type: str
    title: str
    org_unit_code: str
    stage: CaseStage
    status: CaseStatus
    priority: CasePriority
    assignee_id: uuid.UUID | None
    subject_name: str
    received_at: datetime
    due_at: datetime | None
    due_provisional: bool
    overdue: bool
    version: int


class CaseAlertRead(OutputSchema):
    """A reminder (level 0), overdue notice (1) or escalation (2: township supervisor, 3: county supervisor)."""

    kind: str
    level: int
    deadline_key: str
    recipient_unit_code: str
    recipient_role: str | None
    message: str
    created_at: datetime


class MissingNoticeRead(OutputSchema):
    person_id: uuid.UUID
    name: str
    registration_division_code: str | None


class NotifyClockRead(OutputSchema):
    """P04: the notice of a first-child registration to the spouses' registration townships, due 15 working days
    after the registration; `missing` names the spouses whose township is still to be notified."""

    registered_at: datetime
    due_at: datetime
    due_provisional: bool
    working_days: int
    source: str
    missing: list[MissingNoticeRead]
    notified_at: datetime | None
    notified_on_time: bool | None


class SignoffRead(OutputSchema):
    """A signature of the case's maker-checker chain: the step, who signed it, when, and the words attested."""

    step: str
    stage: str
    role: str
    signer_id: uuid.UUID
    signer_label: str
    signed_at: datetime
    attestation: str
    note: str | None


class CaseRead(CaseListItem):
    primary_person_id: uuid.UUID | None
    closed_at: datetime | None
    outcome: CaseOutcome | None
    outcome_reason: str | None
    details: dict[str, Any]
    created_by: str
    subjects: list[CaseSubjectRead] = Field(default_factory=list)
    links: list[CaseLinkRead] = Field(default_factory=list)
    alerts: list[CaseAlertRead] = Field(default_factory=list)
    signoffs: list[SignoffRead] = Field(default_factory=list)
    pending_step: SignoffStepRead | None = Field(
        default=None, description="the signature step the case waits for: who signs it (`action` over the case's unit)"
    )
    notify_clock: NotifyClockRead | None = Field(
        default=None, description="first-child registrations once registered: the notice to the registration places"
    )


class WorkloadRow(OutputSchema):
    assignee_id: uuid.UUID | None
    open_cases: int
    overdue_cases: int
    due_within_3_days: int


class BulkReassignResult(OutputSchema):
    reassigned: int
