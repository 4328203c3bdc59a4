"""Supervision (督导考核): KPI target overrides, published statistical reports, the platform's county aggregates,
assessment schemes, published assessments and contests.

- `KpiTarget`: a county's own target for a catalogue KPI (backend/reports/kpis.py holds the defaults).
- `StatisticalReport`: a published statistical report (统计报表): its figures frozen as JSON with the as-of moment
  and the publisher. Rows are only ever inserted: a correction is a new version with a reason.
- `KpiCountyMonth`: a county's KPI counts per month, refreshed by the nightly job, the only county data the
  platform operator reads (counts, no rows; its policy admits the platform context for reading).
- `AssessmentScheme`: a county's assessment scheme (考核方案) for an FP statistical year.
- `Assessment`: a published assessment, frozen like a report: the scores one county gave another (two-way
  assessment, 双向考核) or its townships' ranking. Shared: the assessed county reads it too (its policy admits both),
  and it holds no personal data.
- `AssessmentContest`: the assessed county's objection to one item (异议), answered by the assessor. Shared too.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import Boolean, Date, DateTime, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint, Uuid
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from backend.db.base import Base, IdMixin, TenantMixin, TimestampMixin, VersionedMixin
from backend.models.case import Case
from backend.models.verification import VerificationRequest


class KpiTarget(IdMixin, TimestampMixin, VersionedMixin, TenantMixin, Base):
    __tablename__ = "kpi_targets"
    __table_args__ = (UniqueConstraint("tenant_id", "kpi_code"),)

    kpi_code: Mapped[str] = mapped_column(String(40), nullable=False)
    target: Mapped[float] = mapped_column(Float, nullable=False)  # a share, 0..1
    updated_by: Mapped[str] = mapped_column(String(100), nullable=False)


class StatisticalReport(IdMixin, TenantMixin, Base):
    __tablename__ = "statistical_reports"
    __table_args__ = (
        UniqueConstraint(
            "tenant_id", "kind", "period_key", "org_unit_code", "version_number", name="uq_statistical_reports_version"
        ),
        Index("ix_statistical_reports_unit", "tenant_id", "org_unit_code", "kind", "period_key"),
    )

    kind: Mapped[str] = mapped_column(String(10), nullable=False)  # month | quarter | year | fp_year
    period_key: Mapped[str] = mapped_column(String(10), nullable=False)  # 2026-03, 2026-Q1, 2026, FY2026
    period_start: Mapped[date] = mapped_column(Date, nullable=False)
    period_end: Mapped[date] = mapped_column(Date, nullable=False)
    org_unit_code: Mapped[str] = mapped_column(String(12), nullable=False)
    version_number: Mapped[int] = mapped_column(Integer, nullable=False)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    as_of: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    published_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    published_by: Mapped[str] = mapped_column(String(100), nullable=False)
    correction_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    supersedes_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("statistical_reports.id", ondelete="RESTRICT"), nullable=True
    )
    figures: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)


class KpiCountyMonth(TenantMixin, Base):
    __tablename__ = "kpi_county_months"
    __table_args__ = (Index("ix_kpi_county_months_month", "month", "kpi_code"),)

    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("tenants.id", ondelete="RESTRICT"), primary_key=True)
    kpi_code: Mapped[str] = mapped_column(String(40), primary_key=True)
    month: Mapped[date] = mapped_column(Date, primary_key=True)
    numerator: Mapped[int] = mapped_column(Integer, nullable=False)
    denominator: Mapped[int] = mapped_column(Integer, nullable=False)
    refreshed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class AssessmentScheme(IdMixin, TimestampMixin, VersionedMixin, TenantMixin, Base):
    __tablename__ = "assessment_schemes"
    __table_args__ = (UniqueConstraint("tenant_id", "year"),)

    year: Mapped[int] = mapped_column(Integer, nullable=False)  # the FP statistical year (ends 30 September)
    # [{"kpi_code", "weight", "target" (None: the county's KPI target), "veto"}]
    items: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, nullable=False)
    updated_by: Mapped[str] = mapped_column(String(100), nullable=False)


class Assessment(IdMixin, TenantMixin, Base):
    """`tenant_id` is the assessing county; `assessed_tenant_id` the county scored (None for the townships'
    ranking, and for a counterpart that is not on the platform)."""

    __tablename__ = "assessments"
    __table_args__ = (
        UniqueConstraint(
            "tenant_id", "kind", "year", "assessed_county_code", "version_number", name="uq_assessments_version"
        ),
        Index("ix_assessments_assessed", "assessed_tenant_id", "year"),
    )

    kind: Mapped[str] = mapped_column(String(20), nullable=False)  # counterpart | townships
    year: Mapped[int] = mapped_column(Integer, nullable=False)
    assessor_county_code: Mapped[str] = mapped_column(String(6), nullable=False)
    assessed_county_code: Mapped[str] = mapped_column(String(6), nullable=False)
    assessed_tenant_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("tenants.id", ondelete="RESTRICT"), nullable=True
    )
    version_number: Mapped[int] = mapped_column(Integer, nullable=False)
    figures: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    total_score: Mapped[float | None] = mapped_column(Float, nullable=True)
    vetoed: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    as_of: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    published_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    published_by: Mapped[str] = mapped_column(String(100), nullable=False)
    correction_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    supersedes_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("assessments.id", ondelete="RESTRICT"), nullable=True
    )


class AssessmentContest(IdMixin, VersionedMixin, TenantMixin, Base):
    """`tenant_id` is the contesting (assessed) county; `assessor_tenant_id` answers."""

    __tablename__ = "assessment_contests"

    assessor_tenant_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("tenants.id", ondelete="RESTRICT"), nullable=False, index=True
    )
    assessment_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("assessments.id", ondelete="RESTRICT"), nullable=False, index=True
    )
    item_code: Mapped[str] = mapped_column(String(40), nullable=False)
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    raised_by: Mapped[str] = mapped_column(String(100), nullable=False)
    raised_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    state: Mapped[str] = mapped_column(String(20), nullable=False)  # open | upheld | dismissed
    response: Mapped[str | None] = mapped_column(Text, nullable=True)
    responded_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    responded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


# Indexes on other aggregates' tables that only supervision reads: covering (every column a KPI count reads is in the
# index), so that a county's counts are index-only scans instead of a visit to each row's page
# (backend/reports/repository.py, bench/reports.py).
Index(
    "ix_cases_kpi_due",
    Case.tenant_id,
    Case.org_unit_code,
    Case.due_at,
    postgresql_ops={"org_unit_code": "text_pattern_ops"},
    postgresql_include=["case_type", "stage", "outcome", "closed_at"],
    postgresql_where=Case.due_at.is_not(None),
)
Index(
    "ix_cases_kpi_closed",
    Case.tenant_id,
    Case.case_type,
    Case.closed_at,
    postgresql_include=["org_unit_code", "outcome"],
    postgresql_where=Case.closed_at.is_not(None),
)
Index(
    "ix_verification_requests_kpi_responder",
    VerificationRequest.responder_county_code,
    VerificationRequest.arrived_at,
    postgresql_include=[
        "tenant_id",
        "responder_tenant_id",
        "responder_unit_code",
        "requester_county_code",
        "kind",
        "state",
        "answer_due_at",
        "answered_on_time",
    ],
)
Index(
    "ix_verification_requests_kpi_requester",
    VerificationRequest.requester_county_code,
    VerificationRequest.materials_received_at,
    postgresql_include=[
        "tenant_id",
        "responder_tenant_id",
        "requester_unit_code",
        "responder_county_code",
        "requester_off_platform",
        "kind",
        "sent_on_time",
    ],
)
