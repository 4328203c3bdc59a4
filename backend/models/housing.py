"""Rental housing and employers (以房管人, 以业主管住房、以法人管用工; spec P24).

「对房东、租房户、门店从业人员计生情况造册登记」: a `RentalHouse` is one rented property of a village (its address,
door-plate number 《房屋出租户标记牌》, owner, business type 「生产经营类别」, the landlord's responsibility agreement
from the agreements); an `Employer` is a unit employing floating people (its legal representative is responsible).
An `Occupancy` links a registered person to a house (a tenant) or an employer (an employee) from the day she moved
in to the day she left: 「人来登记、人走注销」. A person lives in at most one house at a time.
"""

from __future__ import annotations

import uuid
from datetime import date
from enum import StrEnum

from sqlalchemy import Boolean, CheckConstraint, Date, Enum, ForeignKey, Index, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from backend.db.base import Base, IdMixin, TenantMixin, TimestampMixin, VersionedMixin


def _enum(kind: type[StrEnum], name: str) -> Enum:
    return Enum(kind, name=name, values_callable=lambda members: [m.value for m in members])


class BusinessType(StrEnum):
    residential = "residential"  # 住宅出租
    shop = "shop"  # 门店、商铺
    factory_dormitory = "factory_dormitory"  # 厂房、宿舍
    mixed = "mixed"  # 商住两用
    other = "other"


class OccupancyKind(StrEnum):
    tenant = "tenant"  # 租住
    employee = "employee"  # 雇工


class RentalHouse(IdMixin, TimestampMixin, VersionedMixin, TenantMixin, Base):
    __tablename__ = "rental_houses"
    __table_args__ = (
        Index(
            "uq_rental_houses_door_plate",
            "tenant_id",
            "door_plate",
            unique=True,
            postgresql_where="door_plate IS NOT NULL",
        ),
        Index(
            "ix_rental_houses_unit", "tenant_id", "org_unit_code", postgresql_ops={"org_unit_code": "text_pattern_ops"}
        ),
    )

    org_unit_code: Mapped[str] = mapped_column(String(12), nullable=False)
    address: Mapped[str] = mapped_column(String(200), nullable=False)
    door_plate: Mapped[str | None] = mapped_column(String(40), nullable=True)  # 出租房屋标记牌编号
    owner_name: Mapped[str] = mapped_column(String(50), nullable=False)
    owner_person_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("persons.id", ondelete="RESTRICT"), nullable=True
    )
    business_type: Mapped[BusinessType] = mapped_column(_enum(BusinessType, "business_type"), nullable=False)
    agreement_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("agreements.id", ondelete="RESTRICT"), nullable=True
    )
    last_visited_on: Mapped[date | None] = mapped_column(Date, nullable=True)  # 最近一次清查走访
    notes: Mapped[str | None] = mapped_column(Text, nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)


class Employer(IdMixin, TimestampMixin, VersionedMixin, TenantMixin, Base):
    __tablename__ = "employers"
    __table_args__ = (
        Index("ix_employers_unit", "tenant_id", "org_unit_code", postgresql_ops={"org_unit_code": "text_pattern_ops"}),
    )

    org_unit_code: Mapped[str] = mapped_column(String(12), nullable=False)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    address: Mapped[str] = mapped_column(String(200), nullable=False)
    legal_representative: Mapped[str | None] = mapped_column(String(50), nullable=True)  # 法定代表人
    industry: Mapped[str | None] = mapped_column(String(50), nullable=True)  # 行业
    agreement_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("agreements.id", ondelete="RESTRICT"), nullable=True
    )
    notes: Mapped[str | None] = mapped_column(Text, nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)


class Occupancy(IdMixin, TimestampMixin, VersionedMixin, TenantMixin, Base):
    """A tenancy (a person living in a house) or an employment (a person working for an employer)."""

    __tablename__ = "occupancies"
    __table_args__ = (
        CheckConstraint(
            "(kind = 'tenant' AND house_id IS NOT NULL AND employer_id IS NULL) OR "
            "(kind = 'employee' AND employer_id IS NOT NULL AND house_id IS NULL)",
            name="one_place",
        ),
        CheckConstraint("moved_out_on IS NULL OR moved_out_on >= moved_in_on", name="out_after_in"),
        # 一人一处: a person lives in one house at a time.
        Index(
            "uq_occupancies_one_house",
            "tenant_id",
            "person_id",
            unique=True,
            postgresql_where="kind = 'tenant' AND moved_out_on IS NULL",
        ),
        Index(
            "uq_occupancies_one_job_per_employer",
            "tenant_id",
            "person_id",
            "employer_id",
            unique=True,
            postgresql_where="kind = 'employee' AND moved_out_on IS NULL",
        ),
        Index("ix_occupancies_house", "tenant_id", "house_id", "moved_in_on"),
        Index("ix_occupancies_employer", "tenant_id", "employer_id", "moved_in_on"),
        Index(
            "ix_occupancies_unit", "tenant_id", "org_unit_code", postgresql_ops={"org_unit_code": "text_pattern_ops"}
        ),
    )

    kind: Mapped[OccupancyKind] = mapped_column(_enum(OccupancyKind, "occupancy_kind"), nullable=False)
    house_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("rental_houses.id", ondelete="RESTRICT"), nullable=True
    )
    employer_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("employers.id", ondelete="RESTRICT"), nullable=True
    )
    person_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("persons.id", ondelete="RESTRICT"), nullable=False, index=True
    )
    org_unit_code: Mapped[str] = mapped_column(String(12), nullable=False)  # the house's or employer's unit
    moved_in_on: Mapped[date] = mapped_column(Date, nullable=False)
    moved_out_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    notes: Mapped[str | None] = mapped_column(Text, nullable=True)
