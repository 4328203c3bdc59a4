"""Intra-county entrustment (县内委托 / 移交, seeds-spec P21): a case (and, optionally, the responsibility for its
person in the registry) handed by one township to another township of the same county, with a reason; the receiving
township accepts it (the case moves there) or returns it with a reason (it stays where it was).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from backend.db.base import Base, IdMixin, TenantMixin, TimestampMixin, VersionedMixin


class EntrustmentState(StrEnum):
    pending = "pending"  # 待接收: the sending township keeps the case meanwhile
    accepted = "accepted"  # 已接收: the case (and the person, when handed over too) moved to the receiver
    returned = "returned"  # 已退回: the receiver gave it back with a reason; nothing moved


class CaseEntrustment(IdMixin, TimestampMixin, VersionedMixin, TenantMixin, Base):
    __tablename__ = "case_entrustments"
    __table_args__ = (
        # The receiving township's incoming list, pending first by date.
        Index("ix_case_entrustments_receiver", "tenant_id", "to_unit_code", "state", "created_at"),
        # At most one pending hand-over per case.
        Index(
            "uq_case_entrustments_pending",
            "tenant_id",
            "case_id",
            unique=True,
            postgresql_where="state = 'pending'",
        ),
    )

    case_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("cases.id", ondelete="CASCADE"), nullable=False, index=True
    )
    case_number: Mapped[str] = mapped_column(String(30), nullable=False)
    from_unit_code: Mapped[str] = mapped_column(String(12), nullable=False)  # the case's unit when entrusted
    to_unit_code: Mapped[str] = mapped_column(String(12), nullable=False)  # the receiving township
    include_person: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    person_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("persons.id", ondelete="RESTRICT"), nullable=True
    )
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    state: Mapped[str] = mapped_column(String(20), nullable=False, default=EntrustmentState.pending.value)
    requested_by: Mapped[str] = mapped_column(String(80), nullable=False)
    decided_by: Mapped[str | None] = mapped_column(String(80), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    decision_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
