"""Complaints and reports (投诉举报, seeds-spec P18): what came in, by which channel, from whom (confidential), what it
names, and how it was answered; for reports of 两非 (non-medical fetal sex identification and sex-selective
abortion) whether it was verified and its reward paid.

The case (`case_id`, of the `complaint` type) carries the handling deadline, escalation and assignee (the handling
officer); this row carries what the complaint register needs. The complainant's identity is shown only to the
handling officer and the county supervisor (「保密原则」 [000§F]); everyone else reads 「保密」.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Index, Numeric, String, Text, UniqueConstraint, Uuid
from sqlalchemy import Enum as SAEnum
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from backend.db.base import Base, IdMixin, TenantMixin, TimestampMixin, VersionedMixin


class ComplaintChannel(StrEnum):
    hotline = "hotline"  # 12356 维权举报电话
    mailbox = "mailbox"  # 举报箱、网站信箱
    letter = "letter"  # 来信
    visit = "visit"  # 来访
    online = "online"  # 网上投诉


class ComplaintKind(StrEnum):
    complaint = "complaint"  # 投诉（维权）
    liangfei_report = "liangfei_report"  # “两非”举报（有奖举报）


class Complaint(IdMixin, TimestampMixin, VersionedMixin, TenantMixin, Base):
    __tablename__ = "complaints"
    __table_args__ = (
        UniqueConstraint("case_id"),
        Index(
            "ix_complaints_unit_received",
            "tenant_id",
            "org_unit_code",
            "received_at",
            postgresql_ops={"org_unit_code": "text_pattern_ops"},
        ),
    )

    case_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("cases.id", ondelete="RESTRICT"), nullable=False)
    kind: Mapped[ComplaintKind] = mapped_column(
        SAEnum(ComplaintKind, name="complaint_kind", native_enum=False, length=20), nullable=False
    )
    channel: Mapped[ComplaintChannel] = mapped_column(
        SAEnum(ComplaintChannel, name="complaint_channel", native_enum=False, length=20), nullable=False
    )
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    org_unit_code: Mapped[str] = mapped_column(String(12), nullable=False)
    anonymous: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    complainant_name: Mapped[str | None] = mapped_column(String(100), nullable=True)
    complainant_contact: Mapped[str | None] = mapped_column(String(200), nullable=True)
    summary: Mapped[str] = mapped_column(String(200), nullable=False)
    content: Mapped[str] = mapped_column(Text, nullable=False)
    # The prohibited practices it names (forced_return, extra_fees, refusal_without_reason): chosen and detected.
    practices: Mapped[list[str]] = mapped_column(JSONB, nullable=False, default=list)
    outcome: Mapped[str | None] = mapped_column(Text, nullable=True)  # 查处结果
    reply: Mapped[str | None] = mapped_column(Text, nullable=True)  # 答复
    replied_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    verified: Mapped[bool | None] = mapped_column(Boolean, nullable=True)  # 经查实 (reports)
    reward_amount: Mapped[Decimal | None] = mapped_column(Numeric(12, 2), nullable=True)
    reward_paid_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    reward_reference: Mapped[str | None] = mapped_column(String(100), nullable=True)
    created_by: Mapped[str] = mapped_column(String(80), nullable=False)
