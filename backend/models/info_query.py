"""The population-information query ledger (人口信息查询登记, seeds-spec P19): who asked, for what allowed purpose,
with which documents, about whom, what they were told (only the fields the norm allows for that purpose) or why
they were refused; kept two years, then destroyed with a supervisor's approval (its personal content erased, the
entry's number, dates and outcome kept).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Index, String, Text, UniqueConstraint, Uuid
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from backend.db.base import Base, IdMixin, TenantMixin, TimestampMixin, VersionedMixin


class InfoQuery(IdMixin, TimestampMixin, VersionedMixin, TenantMixin, Base):
    __tablename__ = "info_queries"
    __table_args__ = (
        UniqueConstraint("tenant_id", "number"),
        Index(
            "ix_info_queries_unit_requested",
            "tenant_id",
            "org_unit_code",
            "requested_at",
            postgresql_ops={"org_unit_code": "text_pattern_ops"},
        ),
    )

    number: Mapped[str] = mapped_column(String(40), nullable=False)  # 档案号
    org_unit_code: Mapped[str] = mapped_column(String(12), nullable=False)
    requested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    state: Mapped[str] = mapped_column(String(20), nullable=False)  # pending, answered, refused, destroyed
    purpose: Mapped[str] = mapped_column(String(30), nullable=False)
    requester_name: Mapped[str | None] = mapped_column(String(100), nullable=True)
    requester_unit: Mapped[str | None] = mapped_column(String(200), nullable=True)
    documents_seen: Mapped[list[str]] = mapped_column(JSONB, nullable=False, default=list)
    application_signed: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    subject_person_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("persons.id", ondelete="RESTRICT"), nullable=True
    )
    subject_name: Mapped[str | None] = mapped_column(String(50), nullable=True)
    subject_sex: Mapped[str | None] = mapped_column(String(10), nullable=True)
    subject_consent: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    answer: Mapped[dict[str, Any] | None] = mapped_column(JSONB, nullable=True)
    refusal_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    handled_by: Mapped[str | None] = mapped_column(String(80), nullable=True)
    handled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    retain_until: Mapped[date] = mapped_column(Date, nullable=False)
    destroyed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    destroy_approved_by: Mapped[str | None] = mapped_column(String(80), nullable=True)
    created_by: Mapped[str] = mapped_column(String(80), nullable=False)
