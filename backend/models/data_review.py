"""Three-level data review (三级把关, seeds-spec P25): entries a village coordinator made that wait for the
township's confirmation before they count in the registers and reports.

One row per entry: a new registration (the person row exists, marked pending on `persons.review_state`), or a
change to a record (held here, applied only when confirmed). The change as entered is kept sealed (encrypted,
since it may carry ID and phone numbers); `changes` is the audit-style diff with the identifiers redacted, for
the reviewer to read. Decided once: confirmed or rejected with a reason, by whom and when.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import DateTime, ForeignKey, Index, LargeBinary, String, Text, Uuid
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
