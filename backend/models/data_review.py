"""Three-level data review (三级把关, seeds-spec P25): entries a village coordinator made that wait for the
township's confirmation before they count in the registers and reports.

One row per entry: a new registration (the person row exists, marked pending on `persons.review_state`), or a
change to a record (held here, applied only when confirmed). The change as entered is kept sealed (encrypted,
since it may carry ID and phone numbers); `changes` is the audit-style diff with the identifiers redacted, for
the reviewer to read. Decided once: confirmed or rejected with a reason, by whom and when.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Date, DateTime, ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint, Uuid
from sqlalchemy import Enum as SAEnum
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from backend.db.base import Base, IdMixin, TenantMixin, TimestampMixin, VersionedMixin


class EntryKind(StrEnum):
    registration = "registration"  # 新登记
    change = "change"  # 变更
    re_registration = "re_registration"  # 重新登记 (an ID number the county already holds)


class EntryState(StrEnum):
    pending = "pending"  # 待审核
    confirmed = "confirmed"  # 已确认
    rejected = "rejected"  # 已退回


class EntryReview(IdMixin, TimestampMixin, VersionedMixin, TenantMixin, Base):
    __tablename__ = "entry_reviews"
    __table_args__ = (
        Index(
            "ix_entry_reviews_unit_state",
            "tenant_id",
            "org_unit_code",
            "state",
            postgresql_ops={"org_unit_code": "text_pattern_ops"},
        ),
        Index("ix_entry_reviews_person", "tenant_id", "person_id"),
    )

    person_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("persons.id", ondelete="RESTRICT"), nullable=False)
    # The unit the entry belongs to (the person's, or the one the change moves her to): who may confirm it.
    org_unit_code: Mapped[str] = mapped_column(String(12), nullable=False)
    kind: Mapped[EntryKind] = mapped_column(
        SAEnum(EntryKind, name="entry_kind", native_enum=False, length=20), nullable=False
    )
    state: Mapped[EntryState] = mapped_column(
        SAEnum(EntryState, name="entry_state", native_enum=False, length=20), nullable=False
    )
    changes: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, default=dict)
    sealed_change: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    entered_by: Mapped[str] = mapped_column(String(80), nullable=False)
    entered_by_label: Mapped[str] = mapped_column(String(100), nullable=False)
    decided_by: Mapped[str | None] = mapped_column(String(80), nullable=True)
    decided_by_label: Mapped[str | None] = mapped_column(String(100), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)


class RecheckFinding(StrEnum):
    correct = "correct"  # 准确
    corrected = "corrected"  # 有误，已更正
    unverifiable = "unverifiable"  # 无法核实 (nobody at home: a notice left at the door, P25)


class RecheckList(IdMixin, TimestampMixin, VersionedMixin, TenantMixin, Base):
    """A month's random re-check list of one village (倒查、随机抽查, P25): drawn once, reproducibly.

    `population` is every registry entry of the village changed that month, in id order; the sample is
    `random.Random(seed).sample(population, sample_size)` (backend/data_review/rechecks.py), so an auditor can draw
    it again from what is recorded here.
    """

    __tablename__ = "recheck_lists"
    __table_args__ = (
        UniqueConstraint("tenant_id", "org_unit_code", "month"),
        Index(
            "ix_recheck_lists_unit", "tenant_id", "org_unit_code", postgresql_ops={"org_unit_code": "text_pattern_ops"}
        ),
    )

    org_unit_code: Mapped[str] = mapped_column(String(12), nullable=False)  # the village
    month: Mapped[date] = mapped_column(Date, nullable=False)  # its first day
    seed: Mapped[str] = mapped_column(String(64), nullable=False)
    population: Mapped[list[str]] = mapped_column(JSONB, nullable=False, default=list)
    sample_size: Mapped[int] = mapped_column(Integer, nullable=False)
    drawn_by: Mapped[str] = mapped_column(String(80), nullable=False)
    drawn_by_label: Mapped[str] = mapped_column(String(100), nullable=False)


class RecheckItem(IdMixin, TimestampMixin, VersionedMixin, TenantMixin, Base):
    """One sampled entry and what the re-check found (recorded once)."""

    __tablename__ = "recheck_items"
    __table_args__ = (
        UniqueConstraint("list_id", "person_id"),
        Index(
            "ix_recheck_items_unit", "tenant_id", "org_unit_code", postgresql_ops={"org_unit_code": "text_pattern_ops"}
        ),
    )

    list_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("recheck_lists.id", ondelete="RESTRICT"), nullable=False
    )
    person_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("persons.id", ondelete="RESTRICT"), nullable=False)
    org_unit_code: Mapped[str] = mapped_column(String(12), nullable=False)
    finding: Mapped[RecheckFinding | None] = mapped_column(
        SAEnum(RecheckFinding, name="recheck_finding", native_enum=False, length=20), nullable=True
    )
    # The fields corrected (names only; the values are in the person's `person.correct` audit event).
    corrected_fields: Mapped[list[str]] = mapped_column(JSONB, nullable=False, default=list)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    checked_by: Mapped[str | None] = mapped_column(String(80), nullable=True)
    checked_by_label: Mapped[str | None] = mapped_column(String(100), nullable=True)
    checked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
