"""Pregnancy and IUD check rounds (孕情环情检查, 「三查」, spec P08) and their structured results.

A `CheckRound` is one woman's round in one county year (「一般对象每年进行2次、重点对象每年进行4次计划生育"三查"，
分册分次进行登记造册」): opened by the nightly follow-up sweep together with its case, due at the end of its
window, then `done` when a result is recorded, `missed` (未到位) when its window (plus the county's grace days)
ended without one, or `void` when she left or her record was merged before it ended (not counted).

A `CheckResult` is what the check found: pregnancy, IUD/ring, gynaecological findings, the provider, and where it
was done: locally, or elsewhere with the mailed-back proof's scan (a Document). One result per round.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Boolean, Date, DateTime, Enum, ForeignKey, Index, Integer, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from backend.db.base import Base, IdMixin, TenantMixin, TimestampMixin, VersionedMixin


def _enum(kind: type[StrEnum], name: str) -> Enum:
    return Enum(kind, name=name, values_callable=lambda members: [m.value for m in members])


class CheckRoundStatus(StrEnum):
    due = "due"  # 应检：窗口期内
    done = "done"  # 已检
    missed = "missed"  # 未到位：窗口期（含宽限）结束仍无结果
    void = "void"  # 作废：本轮结束前已离开或记录已合并，不计入到位率


class PregnancyFinding(StrEnum):
    not_pregnant = "not_pregnant"  # 未孕
    pregnant = "pregnant"  # 现孕
    not_checked = "not_checked"  # 未查


class IudFinding(StrEnum):
    in_place = "in_place"  # 环在位
    displaced = "displaced"  # 环位下移/异常
    absent = "absent"  # 环脱落/未见环
    not_applicable = "not_applicable"  # 未上环，不适用


class GynaecologyFinding(StrEnum):
    normal = "normal"  # 未见异常
    findings = "findings"  # 有异常，见记录
    not_checked = "not_checked"  # 未查


class CheckPlace(StrEnum):
    local = "local"  # 在本地检查
    elsewhere = "elsewhere"  # 在外地检查，寄回证明（报告单）


class CheckRound(IdMixin, TimestampMixin, VersionedMixin, TenantMixin, Base):
    __tablename__ = "check_rounds"
    __table_args__ = (
        UniqueConstraint("tenant_id", "person_id", "period"),
        Index("ix_check_rounds_window", "tenant_id", "window_end", "status"),
        Index(
            "ix_check_rounds_unit",
            "tenant_id",
            "org_unit_code",
            "window_end",
            postgresql_ops={"org_unit_code": "text_pattern_ops"},
        ),
        Index("ix_check_rounds_person", "tenant_id", "person_id", "window_end"),
    )

    person_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("persons.id", ondelete="RESTRICT"), nullable=False)
    case_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("cases.id", ondelete="RESTRICT"), nullable=True)
    org_unit_code: Mapped[str] = mapped_column(String(12), nullable=False)
    period: Mapped[str] = mapped_column(String(20), nullable=False)  # e.g. 2026-R1of2
    year: Mapped[int] = mapped_column(Integer, nullable=False)
    round: Mapped[int] = mapped_column(Integer, nullable=False)
    rounds: Mapped[int] = mapped_column(Integer, nullable=False)
    window_start: Mapped[date] = mapped_column(Date, nullable=False)
    window_end: Mapped[date] = mapped_column(Date, nullable=False)
    key_subject: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    status: Mapped[CheckRoundStatus] = mapped_column(
        _enum(CheckRoundStatus, "check_round_status"), nullable=False, default=CheckRoundStatus.due
    )
    settled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # The home-visit case opened when this was her second missed round in a row (连续两轮不到位).
    escalation_case_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("cases.id", ondelete="RESTRICT"), nullable=True
    )


class CheckResult(IdMixin, TimestampMixin, TenantMixin, Base):
    __tablename__ = "check_results"
    __table_args__ = (UniqueConstraint("round_id"),)

    round_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("check_rounds.id", ondelete="RESTRICT"), nullable=False
    )
    person_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("persons.id", ondelete="RESTRICT"), nullable=False, index=True
    )
    org_unit_code: Mapped[str] = mapped_column(String(12), nullable=False)
    checked_on: Mapped[date] = mapped_column(Date, nullable=False)
    pregnancy: Mapped[PregnancyFinding] = mapped_column(_enum(PregnancyFinding, "pregnancy_finding"), nullable=False)
    iud: Mapped[IudFinding] = mapped_column(_enum(IudFinding, "iud_finding"), nullable=False)
    gynaecology: Mapped[GynaecologyFinding] = mapped_column(
        _enum(GynaecologyFinding, "gynaecology_finding"), nullable=False
    )
    gynaecology_notes: Mapped[str | None] = mapped_column(Text, nullable=True)
    provider_name: Mapped[str] = mapped_column(String(100), nullable=False)  # 服务机构
    place: Mapped[CheckPlace] = mapped_column(_enum(CheckPlace, "check_place"), nullable=False)
    place_name: Mapped[str | None] = mapped_column(String(100), nullable=True)  # 外地检查的地点
    proof_document_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("documents.id", ondelete="RESTRICT"), nullable=True
    )
    notes: Mapped[str | None] = mapped_column(Text, nullable=True)
    recorded_by_id: Mapped[str] = mapped_column(String(64), nullable=False)
    recorded_by_label: Mapped[str] = mapped_column(String(100), nullable=False)
