"""Follow-up visits (随访, spec P11): the structured result of one follow-up case.

The visits themselves are planned as cases (backend/followups/): postpartum at 42 days, pill users monthly, after
an IUD insertion or a sterilisation (「对手术的有效性进行登记」: whether it worked is recorded), migrants who came
home, and the home visit after two missed check rounds. A `FollowUpVisit` is what the visit found; recording it
closes its case. One visit per case.
"""

from __future__ import annotations

import uuid
from datetime import date
from enum import StrEnum

from sqlalchemy import Boolean, Date, Enum, ForeignKey, Index, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from backend.db.base import Base, IdMixin, TenantMixin, TimestampMixin
from backend.models.check import PregnancyFinding
from backend.models.person import ContraceptionMeasure


def _enum(kind: type[StrEnum], name: str) -> Enum:
    return Enum(kind, name=name, values_callable=lambda members: [m.value for m in members])


class VisitMethod(StrEnum):
    home = "home"  # 入户
    phone = "phone"  # 电话
    service_room = "service_room"  # 到服务室
    workplace = "workplace"  # 到工作地（外出督查）


class FollowUpVisit(IdMixin, TimestampMixin, TenantMixin, Base):
    __tablename__ = "followup_visits"
    __table_args__ = (
        UniqueConstraint("case_id"),
        Index(
            "ix_followup_visits_unit",
            "tenant_id",
            "org_unit_code",
            postgresql_ops={"org_unit_code": "text_pattern_ops"},
        ),
    )

    case_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("cases.id", ondelete="RESTRICT"), nullable=False)
    person_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("persons.id", ondelete="RESTRICT"), nullable=False, index=True
    )
    kind: Mapped[str] = mapped_column(String(40), nullable=False)  # the follow-up kind (backend/followups/rules.py)
    org_unit_code: Mapped[str] = mapped_column(String(12), nullable=False)
    visited_on: Mapped[date] = mapped_column(Date, nullable=False)
    method: Mapped[VisitMethod] = mapped_column(_enum(VisitMethod, "visit_method"), nullable=False)
    contraception_measure: Mapped[ContraceptionMeasure | None] = mapped_column(
        _enum(ContraceptionMeasure, "contraception_measure"), nullable=True
    )
    procedure_effective: Mapped[bool | None] = mapped_column(Boolean, nullable=True)  # 手术有效性
    pregnancy: Mapped[PregnancyFinding] = mapped_column(_enum(PregnancyFinding, "pregnancy_finding"), nullable=False)
    side_effects: Mapped[str | None] = mapped_column(Text, nullable=True)  # 不良反应、并发症
    advice: Mapped[str | None] = mapped_column(Text, nullable=True)  # 指导意见
    recorded_by_id: Mapped[str] = mapped_column(String(64), nullable=False)
    recorded_by_label: Mapped[str] = mapped_column(String(100), nullable=False)
