"""Cross-county verification requests (协查) and notices (通报), shared by two tenants.

A row is written by the requesting county (`tenant_id`) and read and answered by the responding county
(`responder_tenant_id`, None when that county is not on this instance: the request then travels by letter, fax
or phone and the requester records its arrival and, later, the answer). The row-level-security policy of
`verification_requests` admits both tenants; it carries only what the responder needs (the subject's name and
ID number, the question) and never the requester's case or person records. `case_id` is the requester's own
link and is never shown to the responder.

State: pending → answered / rejected (with a reason) / withdrawn (by the requester) / expired (no answer long
after the deadline). A notice (通报, e.g. "first child registered") is answered by an acknowledgement (接收).

An incoming request from a county that is NOT on the platform (来函协查, `requester_off_platform`) is recorded
by the responding township itself from the letter, fax or phone call: the row is that county's own
(`tenant_id` = `responder_tenant_id`), has no case, and the requester's codes are kept when the letter gives
them. Its responder's deadline, reminders, escalation and rates are those of any incoming request; the reply
goes back by the same kinds of channel and is recorded with its evidence (`answer_channel`, `answered_at` =
when it was sent, `answer_evidence` / `answer_evidence_document_id`).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    ARRAY,
    Boolean,
    CheckConstraint,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from backend.db.base import Base, IdMixin, TenantMixin, TimestampMixin, VersionedMixin


class VerificationKind(StrEnum):
    request = "request"  # 协查：a question the responder must answer within 15 working days
    notice = "notice"  # 通报：information the receiver acknowledges (registration done, approval result ...)


class VerificationState(StrEnum):
    pending = "pending"  # 待反馈
    answered = "answered"  # 已反馈 / 已接收
    rejected = "rejected"  # 退回（注明理由）
    withdrawn = "withdrawn"  # 撤回
    expired = "expired"  # 过期未反馈


OPEN_STATES = frozenset({VerificationState.pending})
REPLIED_STATES = frozenset({VerificationState.answered, VerificationState.rejected})


class QuestionType(StrEnum):
    marital_childbearing = "marital_childbearing"  # 婚育情况
    contraception = "contraception"  # 避孕节育
    pregnancy = "pregnancy"  # 孕情
    birth = "birth"  # 出生
    certificate = "certificate"  # 持证情况
    first_child_registration = "first_child_registration"  # 一孩生育服务登记通报（P04）
    rebirth_approval = "rebirth_approval"  # 再生育审批结果通报（P05）
    contraception_report = "contraception_report"  # 避孕节育情况报告单（P07）
    inflow_registered = "inflow_registered"  # 流入登记通报：现居住地登记流入，户籍地关联流出登记
    inflow_left = "inflow_left"  # 离开（返回）通报：现居住地注销流入，户籍地更新流出登记
    other = "other"


class Channel(StrEnum):
    platform = "platform"  # 本系统
    registered_mail = "registered_mail"  # 挂号信：以签收日期为准
    fax = "fax"  # 传真：以传真件上打印的时间为准
    phone = "phone"  # 电话：以通话记录时间为准
    letter = "letter"  # 平信：无签收凭证，以本单位收文登记日期为准，须上传信函扫描件


def _enum(kind: type[StrEnum], name: str) -> Enum:
    return Enum(kind, name=name, values_callable=lambda members: [m.value for m in members])


class VerificationRequest(IdMixin, TimestampMixin, VersionedMixin, TenantMixin, Base):
    __tablename__ = "verification_requests"
    __table_args__ = (
        UniqueConstraint("correlation_id"),
        CheckConstraint(
            "NOT requester_off_platform OR (responder_tenant_id = tenant_id AND case_id IS NULL)",
            name="off_platform_requester",
        ),
        CheckConstraint(
            "requester_off_platform OR (requester_county_code IS NOT NULL AND requester_unit_code IS NOT NULL)",
            name="requester_codes",
        ),
        # One open request per (case, responder unit, kind): a second one is refused with a 409.
        Index(
            "uq_verification_requests_one_open",
            "case_id",
            "responder_unit_code",
            "kind",
            unique=True,
            postgresql_where="state = 'pending'",
        ),
        # The requester's outbox and the responder's inbox, by unit subtree and deadline.
        Index(
            "ix_verification_requests_outbox",
            "tenant_id",
            "requester_unit_code",
            "answer_due_at",
            postgresql_ops={"requester_unit_code": "text_pattern_ops"},
        ),
        Index(
            "ix_verification_requests_inbox",
            "responder_tenant_id",
            "responder_unit_code",
            "answer_due_at",
            postgresql_ops={"responder_unit_code": "text_pattern_ops"},
        ),
    )

    kind: Mapped[VerificationKind] = mapped_column(_enum(VerificationKind, "verification_kind"), nullable=False)
    correlation_id: Mapped[str] = mapped_column(String(40), nullable=False)
    state: Mapped[VerificationState] = mapped_column(_enum(VerificationState, "verification_state"), nullable=False)
    # The requester: its case (never shown to the responder), its township.
    case_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("cases.id", ondelete="RESTRICT"), nullable=True, index=True
    )
    # Off-platform requesters (来函) may give no division code: then both codes are None.
    requester_county_code: Mapped[str | None] = mapped_column(String(6), nullable=True)
    requester_unit_code: Mapped[str | None] = mapped_column(String(12), nullable=True)
    requester_unit_name: Mapped[str] = mapped_column(String(100), nullable=False)
    requester_off_platform: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False, server_default="false")
    requester_reference: Mapped[str | None] = mapped_column(String(100), nullable=True)  # 来函文号
    # The responder: resolved from the subject's household-registration division code.
    responder_tenant_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("tenants.id", ondelete="RESTRICT"), nullable=True
    )
    responder_county_code: Mapped[str] = mapped_column(String(6), nullable=False)
    responder_unit_code: Mapped[str] = mapped_column(String(12), nullable=False)
    responder_unit_name: Mapped[str | None] = mapped_column(String(100), nullable=True)
    responder_assignee_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    # The subject, the minimum the responder needs.
    subject_name: Mapped[str] = mapped_column(String(50), nullable=False)
    subject_resident_id_ciphertext: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    subject_resident_id_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    question_type: Mapped[QuestionType] = mapped_column(_enum(QuestionType, "verification_question"), nullable=False)
    question: Mapped[str] = mapped_column(Text, nullable=False)
    attachment_document_ids: Mapped[list[uuid.UUID]] = mapped_column(ARRAY(Uuid), nullable=False, default=list)
    # How it travelled and when it arrived (the responder's clock starts then).
    channel: Mapped[Channel] = mapped_column(_enum(Channel, "verification_channel"), nullable=False)
    evidence: Mapped[str | None] = mapped_column(String(300), nullable=True)
    evidence_document_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)  # documents: no FK yet
    # Requester's clock: materials received → request sent (7 working days for P04).
    materials_received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    send_due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    sent_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    sent_on_time: Mapped[bool] = mapped_column(Boolean, nullable=False)
    # Responder's clock: arrival (now on the platform; by the channel's evidence otherwise) → answer (15 WD).
    arrived_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    answer_due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    answer_due_provisional: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    responder_overdue: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    responder_escalation_level: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    # The outcome.
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    answered_on_time: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    answer: Mapped[str | None] = mapped_column(Text, nullable=True)
    answer_channel: Mapped[Channel | None] = mapped_column(_enum(Channel, "verification_channel"), nullable=True)
    answer_evidence: Mapped[str | None] = mapped_column(String(300), nullable=True)
    answer_evidence_document_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    close_reason: Mapped[str | None] = mapped_column(Text, nullable=True)  # rejection or withdrawal reason
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_by: Mapped[str] = mapped_column(String(80), nullable=False)


class VerificationAlert(IdMixin, TenantMixin, Base):
    """A reminder, overdue notice, escalation rung or expiry raised by the request's workflow, for the side
    whose deadline it is (the responder's tenant; the requester's when the responder is off the platform).
    Unique per (request, kind, level): each rung once."""

    __tablename__ = "verification_alerts"
    __table_args__ = (UniqueConstraint("request_id", "kind", "level"),)

    request_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("verification_requests.id", ondelete="CASCADE"), nullable=False, index=True
    )
    kind: Mapped[str] = mapped_column(String(20), nullable=False)  # reminder | overdue | escalation | expired
    level: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    recipient_unit_code: Mapped[str] = mapped_column(String(12), nullable=False, index=True)
    recipient_role: Mapped[str | None] = mapped_column(String(40), nullable=True)
    recipient_user_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    message: Mapped[str] = mapped_column(String(300), nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
