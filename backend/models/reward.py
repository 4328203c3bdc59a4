"""Rewards and preferential policies (奖励优惠, seeds-spec P17): an application for one policy in one year, decided
through its case's three-signature chain, and the payments made on it.

The case (`case_id`, of the policy's case type) carries the workflow, deadlines and signatures; this row carries
what the reward register needs: the entitled couple, the payee, the amount the county set for the policy that year,
and the eligibility found in the registry when it was applied for. Payments go only to the entitled parents
(「独生子女奖励金由非独生子女父母代领,领取不规范,应予纠正」 [001#10]).
"""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Date, ForeignKey, Index, Integer, Numeric, String, UniqueConstraint, Uuid
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from backend.db.base import Base, IdMixin, TenantMixin, TimestampMixin, VersionedMixin


class RewardApplication(IdMixin, TimestampMixin, VersionedMixin, TenantMixin, Base):
    __tablename__ = "reward_applications"
    __table_args__ = (
        UniqueConstraint("case_id"),
        Index(
            "ix_reward_applications_unit_year",
            "tenant_id",
            "org_unit_code",
            "year",
            postgresql_ops={"org_unit_code": "text_pattern_ops"},
        ),
    )

    case_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("cases.id", ondelete="RESTRICT"), nullable=False)
    policy: Mapped[str] = mapped_column(String(40), nullable=False)  # the case type code
    year: Mapped[int] = mapped_column(Integer, nullable=False)
    org_unit_code: Mapped[str] = mapped_column(String(12), nullable=False)
    applicant_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("persons.id", ondelete="RESTRICT"), nullable=False)
    spouse_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("persons.id", ondelete="RESTRICT"), nullable=True
    )
    payee_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("persons.id", ondelete="RESTRICT"), nullable=False)
    amount: Mapped[Decimal] = mapped_column(Numeric(12, 2), nullable=False)  # 元 for the year
    eligibility: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, nullable=False, default=list)
    created_by: Mapped[str] = mapped_column(String(80), nullable=False)


class RewardPayment(IdMixin, TimestampMixin, TenantMixin, Base):
    """A payment (发放) on a granted reward, to one of its entitled parents."""

    __tablename__ = "reward_payments"

    reward_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("reward_applications.id", ondelete="RESTRICT"), nullable=False, index=True
    )
    payee_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("persons.id", ondelete="RESTRICT"), nullable=False)
    amount: Mapped[Decimal] = mapped_column(Numeric(12, 2), nullable=False)
    paid_on: Mapped[date] = mapped_column(Date, nullable=False)
    reference: Mapped[str | None] = mapped_column(String(100), nullable=True)  # 凭证号 / bank reference
    org_unit_code: Mapped[str] = mapped_column(String(12), nullable=False)
    recorded_by: Mapped[str] = mapped_column(String(80), nullable=False)
