"""Contraceptive distribution (避孕药具发放, spec P10): distribution points and their stock movements.

「在流动人口相对聚集的地区设置避孕药具发放点,有条件的在适当位置设置避孕套自动售货机」: a point is kept by a village
(its unit) and is a village service room, a market stall, an enterprise or a self-service box. Stock moves in
(`received`, from the county's supply station) and out (`issued`); the balance per point and product is the sum of
its movements, and each movement stores the balance after it for the register. Every issue records its recipient and
her signature (「当场进行登记造册并签字」): a signature drawn on the screen (a PNG) or a signed paper's scan, both
stored as documents of the recipient. Only a self-service box issues without a recipient (nobody is there to sign).
"""

from __future__ import annotations

import uuid
from datetime import date
from enum import StrEnum

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from backend.db.base import Base, IdMixin, TenantMixin, TimestampMixin, VersionedMixin


def _enum(kind: type[StrEnum], name: str) -> Enum:
    return Enum(kind, name=name, values_callable=lambda members: [m.value for m in members])


class DistributionPointKind(StrEnum):
    village_room = "village_room"  # 村（居）计生服务室
    market = "market"  # 集贸市场
    enterprise = "enterprise"  # 企业
    self_service_box = "self_service_box"  # 自取箱、自助发放机


class ContraceptiveProduct(StrEnum):
    condom = "condom"  # 避孕套
    oral_pill = "oral_pill"  # 口服避孕药
    emergency_pill = "emergency_pill"  # 紧急避孕药
    injection = "injection"  # 避孕针
    topical = "topical"  # 外用避孕药
    other = "other"


class MovementKind(StrEnum):
    received = "received"  # 入库
    issued = "issued"  # 发放


class DistributionPoint(IdMixin, TimestampMixin, VersionedMixin, TenantMixin, Base):
    __tablename__ = "distribution_points"
    __table_args__ = (UniqueConstraint("tenant_id", "org_unit_code", "name"),)

    org_unit_code: Mapped[str] = mapped_column(String(12), nullable=False)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    kind: Mapped[DistributionPointKind] = mapped_column(
        _enum(DistributionPointKind, "distribution_point_kind"), nullable=False
    )
    address: Mapped[str | None] = mapped_column(String(200), nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)


class StockMovement(IdMixin, TimestampMixin, TenantMixin, Base):
    __tablename__ = "stock_movements"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("balance_after >= 0", name="balance_not_negative"),
        Index("ix_stock_movements_point", "tenant_id", "point_id", "product", "moved_on"),
        Index(
            "ix_stock_movements_unit",
            "tenant_id",
            "org_unit_code",
            "moved_on",
            postgresql_ops={"org_unit_code": "text_pattern_ops"},
        ),
    )

    point_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("distribution_points.id", ondelete="RESTRICT"), nullable=False
    )
    org_unit_code: Mapped[str] = mapped_column(String(12), nullable=False)
    product: Mapped[ContraceptiveProduct] = mapped_column(
        _enum(ContraceptiveProduct, "contraceptive_product"), nullable=False
    )
    kind: Mapped[MovementKind] = mapped_column(_enum(MovementKind, "stock_movement_kind"), nullable=False)
    quantity: Mapped[int] = mapped_column(Integer, nullable=False)
    balance_after: Mapped[int] = mapped_column(Integer, nullable=False)
    moved_on: Mapped[date] = mapped_column(Date, nullable=False)
    person_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("persons.id", ondelete="RESTRICT"), nullable=True, index=True
    )
    signature_document_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("documents.id", ondelete="RESTRICT"), nullable=True
    )
    source: Mapped[str | None] = mapped_column(String(100), nullable=True)  # 入库：供货单位
    notes: Mapped[str | None] = mapped_column(Text, nullable=True)
    recorded_by_id: Mapped[str] = mapped_column(String(64), nullable=False)
    recorded_by_label: Mapped[str] = mapped_column(String(100), nullable=False)
