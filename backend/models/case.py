"""Cases: every piece of work about a person (登记、办证、查验、协查、随访 ...), assigned, tracked and closed.

A case has a type (configuration: stages, required documents, deadline rules; see backend/case_types/definitions.py),
subjects, a stage and a status within it, an assignee, a priority, due dates and an outcome. Rows are edited by
people, so they carry an optimistic-lock version.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    Boolean,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from backend.db.base import Base, IdMixin, TenantMixin, TimestampMixin, VersionedMixin


class CaseStage(StrEnum):
    registration = "registration"  # 登记
    verification = "verification"  # 核查/协查
    service_delivery = "service_delivery"  # 服务办理
    follow_up = "follow_up"  # 随访
    audit = "audit"  # 审核
    closed = "closed"  # 办结


class CaseStatus(StrEnum):
    open = "open"  # 办理中
    waiting = "waiting"  # 等待对方（协查、部门）
    suspended = "suspended"  # 补正：材料不全，时限中止
    done = "done"  # 本阶段完成


class CasePriority(StrEnum):
    low = "low"
    normal = "normal"
    high = "high"
    urgent = "urgent"


class CaseOutcome(StrEnum):
    registered = "registered"  # 予以登记/办理
    deferred = "deferred"  # 暂缓（材料不全）
    refused = "refused"  # 不予办理（书面说明理由）
    completed = "completed"  # 服务完成
    withdrawn = "withdrawn"  # 撤回
    no_action = "no_action"  # 核实后无需处理


def _enum(kind: type[StrEnum], name: str) -> Enum:
    return Enum(kind, name=name, values_callable=lambda members: [m.value for m in members])


class CaseTypeConfig(IdMixin, TimestampMixin, VersionedMixin, TenantMixin, Base):
    """A county's override of a shipped case type (enable/disable, label, stages, documents, deadline rules)."""

    __tablename__ = "case_type_configs"
    __table_args__ = (UniqueConstraint("tenant_id", "code"),)

    code: Mapped[str] = mapped_column(String(40), nullable=False)
    enabled: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    overrides: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, default=dict)


class CaseCounter(TenantMixin, Base):
    """Per county and year: the last case number handed out (cases are numbered 330106-2026-000123)."""

    __tablename__ = "case_counters"

    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("tenants.id", ondelete="RESTRICT"), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_number: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


class Case(IdMixin, TimestampMixin, VersionedMixin, TenantMixin, Base):
    __tablename__ = "cases"
    __table_args__ = (
        UniqueConstraint("tenant_id", "number"),
        # The queue views: by unit subtree, open first by due date; by assignee; by stage.
        Index(
            "ix_cases_unit_due",
            "tenant_id",
            "org_unit_code",
            "due_at",
            postgresql_ops={"org_unit_code": "text_pattern_ops"},
        ),
        Index("ix_cases_assignee_due", "tenant_id", "assignee_id", "due_at"),
        Index("ix_cases_stage_due", "tenant_id", "stage", "due_at"),
        Index("ix_cases_open_due", "tenant_id", "due_at", postgresql_where="stage <> 'closed'"),
    )

    number: Mapped[str] = mapped_column(String(30), nullable=False)
    case_type: Mapped[str] = mapped_column(String(40), nullable=False)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    org_unit_code: Mapped[str] = mapped_column(String(12), nullable=False)
    stage: Mapped[CaseStage] = mapped_column(_enum(CaseStage, "case_stage"), nullable=False)
    status: Mapped[CaseStatus] = mapped_column(_enum(CaseStatus, "case_status"), nullable=False)
    priority: Mapped[CasePriority] = mapped_column(
        _enum(CasePriority, "case_priority"), nullable=False, default=CasePriority.normal
    )
    assignee_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    # The primary subject, denormalised for the case list's search (names in Chinese and pinyin).
    primary_person_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("persons.id", ondelete="RESTRICT"), nullable=True, index=True
    )
    subject_name: Mapped[str] = mapped_column(String(50), nullable=False, default="")
    subject_pinyin: Mapped[str] = mapped_column(String(120), nullable=False, default="")
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    # Due dates come from the case type's deadline rule through the working-day calendar.
    due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    due_provisional: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    overdue: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    outcome: Mapped[CaseOutcome | None] = mapped_column(_enum(CaseOutcome, "case_outcome"), nullable=True)
    outcome_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    details: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, default=dict)
    created_by: Mapped[str] = mapped_column(String(80), nullable=False)
    # Deadline clock of the current stage, kept by the case workflow's activities.
    stage_started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    suspended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)  # 补正
    remaining_working_days: Mapped[int | None] = mapped_column(Integer, nullable=True)
    extension_used: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    escalation_level: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


class CaseSubject(IdMixin, TenantMixin, Base):
    """A person a case is about, with their part in it (applicant, spouse, child ...)."""

    __tablename__ = "case_subjects"
    __table_args__ = (UniqueConstraint("case_id", "person_id"),)

    case_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("cases.id", ondelete="CASCADE"), nullable=False, index=True
    )
    person_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("persons.id", ondelete="RESTRICT"), nullable=False, index=True
    )
    part: Mapped[str] = mapped_column(String(20), nullable=False, default="subject")


class CaseLink(IdMixin, TenantMixin, Base):
    """A relation between two cases (follow-up of, duplicate of, related to)."""

    __tablename__ = "case_links"
    __table_args__ = (UniqueConstraint("case_id", "linked_case_id"),)

    case_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("cases.id", ondelete="CASCADE"), nullable=False, index=True
    )
    linked_case_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("cases.id", ondelete="CASCADE"), nullable=False)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)


class CaseAlert(IdMixin, TenantMixin, Base):
    """A reminder, overdue notice or escalation rung raised by the case workflow, for someone to act on.

    The unique key (case, deadline, kind, level) makes each rung fire exactly once even if an activity is
    retried: a deadline is identified by the stage and the moment the clock for it started.
    """

    __tablename__ = "case_alerts"
    __table_args__ = (UniqueConstraint("case_id", "deadline_key", "kind", "level"),)

    case_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("cases.id", ondelete="CASCADE"), nullable=False, index=True
    )
    deadline_key: Mapped[str] = mapped_column(String(80), nullable=False)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)  # reminder | overdue | escalation
    level: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    recipient_unit_code: Mapped[str] = mapped_column(String(12), nullable=False, index=True)
    recipient_role: Mapped[str | None] = mapped_column(String(40), nullable=True)
    recipient_user_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    message: Mapped[str] = mapped_column(String(300), nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
