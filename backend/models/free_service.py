"""Free technical services (免费技术服务项目, spec P09): the county's own items beside the six national ones, and each
service delivered (person, item, provider, date, who bears the cost for the provincial settlement)."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    Enum,
    ForeignKey,
    Index,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from backend.db.base import Base, IdMixin, TenantMixin, TimestampMixin, VersionedMixin


class CostBearer(StrEnum):
    residence_county = "residence_county"  # 现居住地县级财政
    registration_place = "registration_place"  # 户籍地
    provincial_settlement = "provincial_settlement"  # 省内结算
    other = "other"


class FreeServiceItem(IdMixin, TimestampMixin, VersionedMixin, TenantMixin, Base):
    """An item the county adds to the national list (免费孕前优生健康检查, 生殖道感染治疗 ...)."""

    __tablename__ = "free_service_items"
    __table_args__ = (UniqueConstraint("tenant_id", "code"),)

    code: Mapped[str] = mapped_column(String(40), nullable=False)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    note: Mapped[str | None] = mapped_column(String(200), nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)


class FreeService(IdMixin, TimestampMixin, TenantMixin, Base):
    __tablename__ = "free_services"
    __table_args__ = (
        CheckConstraint("amount IS NULL OR amount >= 0", name="amount_not_negative"),
        Index(
            "ix_free_services_unit",
            "tenant_id",
            "org_unit_code",
            "served_on",
            postgresql_ops={"org_unit_code": "text_pattern_ops"},
        ),
    )

    person_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("persons.id", ondelete="RESTRICT"), nullable=False, index=True
    )
    org_unit_code: Mapped[str] = mapped_column(String(12), nullable=False)
    item_code: Mapped[str] = mapped_column(String(40), nullable=False)
    provider_name: Mapped[str] = mapped_column(String(100), nullable=False)
    served_on: Mapped[date] = mapped_column(Date, nullable=False)
    cost_bearer: Mapped[CostBearer] = mapped_column(
        Enum(CostBearer, name="cost_bearer", values_callable=lambda members: [m.value for m in members]),
        nullable=False,
    )
    amount: Mapped[Decimal | None] = mapped_column(Numeric(10, 2), nullable=True)  # 结算金额（元）
    notes: Mapped[str | None] = mapped_column(Text, nullable=True)
    recorded_by_id: Mapped[str] = mapped_column(String(64), nullable=False)
    recorded_by_label: Mapped[str] = mapped_column(String(100), nullable=False)
