"""Clean-up campaigns (清理清查, spec P12): the periodic dragnet through which a county finds who arrived and who left.

A `Campaign` is planned by a township or the county for a period and some villages (`CampaignUnit`), of a kind
(monthly, quarterly, Spring Festival, special), with the criteria its work lists were drawn by. Each village's list
is its `CampaignItem`s: a registered person to look for (not seen for months, an inflow woman whose certificate was
never inspected, an expired certificate) or a rental house not walked for months. A coordinator records each visit's
finding: present, left (the person is deregistered and her registration county told), moved within the county,
unknown, or a new arrival found (registered through the registry, as an item of its own).
"""

from __future__ import annotations

import uuid
from datetime import date
from enum import StrEnum
from typing import Any

from sqlalchemy import Date, Enum, ForeignKey, Index, String, Text, UniqueConstraint, Uuid
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from backend.db.base import Base, IdMixin, TenantMixin, TimestampMixin, VersionedMixin


def _enum(kind: type[StrEnum], name: str) -> Enum:
    return Enum(kind, name=name, values_callable=lambda members: [m.value for m in members])


class CampaignKind(StrEnum):
    monthly = "monthly"  # 每月清查
    quarterly = "quarterly"  # 季度联合大清查
    spring_festival = "spring_festival"  # 春节集中清理清查
    special = "special"  # 专项清理


class CampaignStatus(StrEnum):
    active = "active"
    closed = "closed"


class CampaignFinding(StrEnum):
    present = "present"  # 在住（已见面）
    left = "left"  # 已离开
    moved_within_county = "moved_within_county"  # 县内迁移
    unknown = "unknown"  # 去向不明
    new_arrival = "new_arrival"  # 新发现流入


class Campaign(IdMixin, TimestampMixin, VersionedMixin, TenantMixin, Base):
    __tablename__ = "campaigns"
    __table_args__ = (
        Index("ix_campaigns_unit", "tenant_id", "org_unit_code", postgresql_ops={"org_unit_code": "text_pattern_ops"}),
    )

    name: Mapped[str] = mapped_column(String(100), nullable=False)
    kind: Mapped[CampaignKind] = mapped_column(_enum(CampaignKind, "campaign_kind"), nullable=False)
    period_start: Mapped[date] = mapped_column(Date, nullable=False)
    period_end: Mapped[date] = mapped_column(Date, nullable=False)
    org_unit_code: Mapped[str] = mapped_column(String(12), nullable=False)  # the township or county planning it
    criteria: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    status: Mapped[CampaignStatus] = mapped_column(
        _enum(CampaignStatus, "campaign_status"), nullable=False, default=CampaignStatus.active
    )
    created_by: Mapped[str] = mapped_column(String(100), nullable=False)


class CampaignUnit(IdMixin, TenantMixin, Base):
    """A village the campaign covers."""

    __tablename__ = "campaign_units"
    __table_args__ = (
        UniqueConstraint("campaign_id", "org_unit_code"),
        Index(
            "ix_campaign_units_unit", "tenant_id", "org_unit_code", postgresql_ops={"org_unit_code": "text_pattern_ops"}
        ),
    )

    campaign_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("campaigns.id", ondelete="RESTRICT"), nullable=False
    )
    org_unit_code: Mapped[str] = mapped_column(String(12), nullable=False)


class CampaignItem(IdMixin, TimestampMixin, VersionedMixin, TenantMixin, Base):
    """One entry of a village's work list: a person or a house, why it is there, and what the visit found."""

    __tablename__ = "campaign_items"
    __table_args__ = (
        Index(
            "uq_campaign_items_person",
            "campaign_id",
            "person_id",
            unique=True,
            postgresql_where="person_id IS NOT NULL",
        ),
        Index(
            "uq_campaign_items_house", "campaign_id", "house_id", unique=True, postgresql_where="house_id IS NOT NULL"
        ),
        Index(
            "ix_campaign_items_unit",
            "tenant_id",
            "campaign_id",
            "org_unit_code",
            postgresql_ops={"org_unit_code": "text_pattern_ops"},
        ),
    )

    campaign_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("campaigns.id", ondelete="RESTRICT"), nullable=False
    )
    org_unit_code: Mapped[str] = mapped_column(String(12), nullable=False)
    person_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("persons.id", ondelete="RESTRICT"), nullable=True, index=True
    )
    house_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("rental_houses.id", ondelete="RESTRICT"), nullable=True
    )
    reasons: Mapped[list[str]] = mapped_column(JSONB, nullable=False)
    finding: Mapped[CampaignFinding | None] = mapped_column(_enum(CampaignFinding, "campaign_finding"), nullable=True)
    found_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    moved_to_unit_code: Mapped[str | None] = mapped_column(String(12), nullable=True)
    notes: Mapped[str | None] = mapped_column(Text, nullable=True)
    recorded_by_label: Mapped[str | None] = mapped_column(String(100), nullable=True)
    # The flow notice the finding sent to the person's registration county (a departure, an arrival), if any.
    notice_correlation_id: Mapped[str | None] = mapped_column(String(60), nullable=True)
