"""Request and response bodies of cross-county verification (协查) and notices (通报)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import Field

from backend.core.input import (
    MultilineText,
    PastDateTime,
    Text,
    TownshipCode,
    TownshipOrVillageCode,
    UnitCode,
)
from backend.core.schemas import InputSchema, OutputSchema
from backend.models import Channel, QuestionType, VerificationKind, VerificationState

DivisionCode = TownshipOrVillageCode
Question = Annotated[str, MultilineText(4000, min_length=2)]
Reason = Annotated[str, MultilineText(2000, min_length=2)]
SubjectName = Annotated[str, Text(50, min_length=1)]
SubjectResidentId = Annotated[str, Text(24, min_length=15)]
Evidence = Annotated[str, Text(300, min_length=2)]


NOTICE_QUESTION_TYPES = frozenset({QuestionType.first_child_registration, QuestionType.rebirth_approval})
"""Question types that are results to announce (通报), not questions to answer (协查): a page's one form sends
these as notices."""


def kind_for(question_type: QuestionType) -> VerificationKind:
    """A notice for the question types that announce a result, a request for the others."""
    return VerificationKind.notice if question_type in NOTICE_QUESTION_TYPES else VerificationKind.request


class Dispatch(InputSchema):
    """How the request travels. On the platform it arrives when it is sent. By registered mail, fax or phone it
    arrives, by the norm, at the signed-for date, the time printed on the fax, or the time in the call record:
    those channels need that moment and its evidence (a reference or an uploaded scan)."""

    channel: Channel = Channel.platform
    sent_at: PastDateTime | None = Field(
        default=None, description="when it was posted / faxed / called; default arrival"
    )
    arrived_at: PastDateTime | None = Field(default=None, description="signed-for / printed / call-record time")
    evidence: Evidence | None = None
    evidence_document_id: uuid.UUID | None = None


class VerificationCreate(InputSchema):
    """A request (协查) or notice (通报) about one subject of a case of the caller's county.

    The responder is the township of the subject's household-registration division code (or, with `place` =
    residence, of the current residence) from the person record, or `responder_division_code` when it must be
    given. Without `person_id`, name and ID are given."""

    case_id: uuid.UUID
    person_id: uuid.UUID | None = None
    place: Literal["registration", "residence"] = Field(
        default="registration",
        description="which of the person's places receives it: 户籍地 (default) or 现居住地 (e.g. a re-birth approval)",
    )
    responder_division_code: DivisionCode | None = None
    subject_name: SubjectName | None = None
    subject_resident_id: SubjectResidentId | None = None
    question_type: QuestionType = QuestionType.marital_childbearing
    question: Question
    attachment_document_ids: list[uuid.UUID] = Field(default_factory=list, max_length=20)
    dispatch: Dispatch = Field(default_factory=Dispatch)


OffPlatformChannel = Literal["registered_mail", "letter", "fax", "phone"]


class Reply(InputSchema):
    """How the answer to an off-platform county went back (required for those, refused for the others): the
    channel, when it was sent (the posting date, the time printed on the fax report, the call's time) and its
    evidence (a reference such as the registered-mail number or call-log page, and/or an uploaded scan)."""

    channel: OffPlatformChannel
    sent_at: PastDateTime
    evidence: Evidence | None = None
    evidence_document_id: uuid.UUID | None = None


class AnswerBody(InputSchema):
    answer: Question
    reply: Reply | None = None


class ReasonBody(InputSchema):
    reason: Reason


class RejectBody(ReasonBody):
    reply: Reply | None = None


class IncomingCreate(InputSchema):
    """A request that reached one of our townships by letter, registered mail, fax or phone from a county that is
    not on the platform (来函协查), recorded by that township.

    Arrival (the responder's 15 working days start the next working day), by the norm's rule for each channel
    (seeds-spec P06 「公函以挂号签收日期为到达时间;传真以注明接收时间为到达时间;电话以原始记录的通话时间为到达时间」):
    registered mail — the signed-for date; fax — the receipt time printed on the fax; phone — the time in the
    call record; an ordinary letter (no signed-for slip, not covered by the norm) — the date our office logged
    its receipt. Evidence (「具有证据效力的原始记录」): a scan of the letter or fax is required
    (`evidence_document_id`, uploaded with owner_kind `verification_request` and owner_id `id`); a call needs the
    call record's reference (`evidence`) or a scan."""

    id: uuid.UUID | None = Field(default=None, description="the id the evidence scan was uploaded under")
    responder_unit_code: TownshipCode
    requester_unit_name: Annotated[str, Text(100, min_length=2)]
    requester_division_code: UnitCode | None = None
    requester_reference: Annotated[str, Text(100, min_length=1)] | None = None
    subject_name: SubjectName
    subject_resident_id: SubjectResidentId | None = None
    question_type: QuestionType = QuestionType.marital_childbearing
    question: Question
    channel: OffPlatformChannel
    sent_at: PastDateTime | None = Field(default=None, description="when the other county posted / faxed / called")
    arrived_at: PastDateTime = Field(description="signed-for date / fax receipt time / call time / receipt-log date")
    evidence: Evidence | None = None
    evidence_document_id: uuid.UUID | None = None


class AssignBody(InputSchema):
    assignee_id: uuid.UUID | None


class RecordedAnswer(InputSchema):
    """The answer of an off-platform county, recorded by the requester: when it arrived, by which channel."""

    answer: Question
    channel: Channel
    arrived_at: PastDateTime
    evidence_document_id: uuid.UUID | None = None


class VerificationRead(OutputSchema):
    id: uuid.UUID
    kind: VerificationKind
    correlation_id: str
    state: VerificationState
    # The requester's case: shown to the requester only, None for the responder.
    case_id: uuid.UUID | None = None
    requester_county_code: str | None
    requester_unit_code: str | None
    requester_unit_name: str
    # True for a request from an off-platform county recorded by the responder itself (来函协查).
    requester_off_platform: bool = False
    requester_reference: str | None = None
    responder_county_code: str
    responder_unit_code: str
    responder_unit_name: str | None
    on_platform: bool = False
    responder_assignee_id: uuid.UUID | None
    subject_name: str
    subject_resident_id: str | None = None
    question_type: QuestionType
    question: str
    attachment_document_ids: list[uuid.UUID]
    channel: Channel
    evidence: str | None
    evidence_document_id: uuid.UUID | None
    send_due_at: datetime
    sent_at: datetime
    sent_on_time: bool
    arrived_at: datetime
    answer_due_at: datetime
    answer_due_provisional: bool
    expires_at: datetime
    responder_overdue: bool
    responder_escalation_level: int
    answered_at: datetime | None
    answered_on_time: bool | None
    answer: str | None
    answer_channel: Channel | None
    answer_evidence: str | None = None
    answer_evidence_document_id: uuid.UUID | None = None
    close_reason: str | None
    closed_at: datetime | None
    version: int


class VerificationAlertRead(OutputSchema):
    id: uuid.UUID
    request_id: uuid.UUID
    kind: str
    level: int
    recipient_unit_code: str
    recipient_role: str | None
    recipient_user_id: uuid.UUID | None
    message: str
    created_at: datetime


class RateFigures(OutputSchema):
    """Counts and rates of one unit (a township or the county) in a period. A rate is None when nothing was due.

    - sent on time: requests whose materials arrived in the period, sent within their 7 working days;
    - answered on time / feedback: requests that arrived in the period and are due by `as_of` (or settled),
      answered by their due moment / answered at all (answered or rejected with a reason); an expired
      request counts against the responder in both;
    - acceptance: notices that arrived in the period and were acknowledged.
    """

    unit_code: str
    requests_sent: int = 0
    sent_on_time: int = 0
    sent_on_time_rate: float | None = None
    requests_received: int = 0
    answered_on_time: int = 0
    answered_on_time_rate: float | None = None
    answered: int = 0
    feedback_rate: float | None = None
    notices_received: int = 0
    notices_accepted: int = 0
    acceptance_rate: float | None = None


class RatesReport(OutputSchema):
    county_code: str
    counterpart_county_code: str | None
    period_start: date
    period_end: date
    as_of: datetime
    county: RateFigures
    townships: list[RateFigures]
    # The counterpart county's figures in its dealings with this county, from the same shared rows (双向考核:
    # each side scored from the other's data); None without a counterpart.
    counterpart: RateFigures | None = None


class FlowNoticeFiling(InputSchema):
    """File an inflow/left notice (流入/离开通报): `link` it to the outflow entry of the same ID number, or
    `create` that entry (in `org_unit_code`, default the receiving township) when there is none."""

    action: Literal["link", "create"]
    org_unit_code: TownshipOrVillageCode | None = None
    note: Annotated[str, MultilineText(500, min_length=1)] | None = None


class FlowNoticeFiled(OutputSchema):
    notice: VerificationRead
    filing: Literal["linked", "created"]
    person_id: uuid.UUID
