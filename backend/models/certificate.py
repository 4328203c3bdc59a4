"""The marriage-and-childbearing certificate (《流动人口婚育证明》, 婚育证明) and its inspections.

Issued free by the registration-place township, valid three years (「不得以任何理由缩短期限」), permanent when the
woman is sterilised and her status does not change; renewed on expiry (a new record linked to the old one);
inspected by the residence place on arrival and at least yearly. A county may hold certificates issued by
another county (inflow persons): then the issuing unit is outside its org tree.
"""

from __future__ import annotations

import uuid
from datetime import date
from enum import StrEnum

from sqlalchemy import Boolean, Date, Enum, ForeignKey, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from backend.db.base import Base, IdMixin, TenantMixin, TimestampMixin, VersionedMixin


class CertificateStatus(StrEnum):
    valid = "valid"
    expired = "expired"
    renewed = "renewed"  # superseded by the renewal that points to it
    revoked = "revoked"


class InspectionResult(StrEnum):
    valid = "valid"  # 查验合格
    status_changed = "status_changed"  # 婚育或避孕节育情况变化，已记录并盖章
    expired = "expired"  # 过期，需换领
    missing = "missing"  # 未办理/未携带：限期办理
    invalid = "invalid"  # 证件不实


class Certificate(IdMixin, TimestampMixin, VersionedMixin, TenantMixin, Base):
    __tablename__ = "certificates"
    __table_args__ = (UniqueConstraint("tenant_id", "number"),)

    person_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("persons.id", ondelete="RESTRICT"), nullable=False, index=True
    )
    number: Mapped[str] = mapped_column(String(40), nullable=False)
    issue_date: Mapped[date] = mapped_column(Date, nullable=False)
    # The issuing township: a unit of this county, or a division code elsewhere for certificates seen on arrival.
    issuing_unit_code: Mapped[str] = mapped_column(String(12), nullable=False)
    issuing_unit_name: Mapped[str] = mapped_column(String(100), nullable=False)
    permanent: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    valid_until: Mapped[date | None] = mapped_column(Date, nullable=True)
    status: Mapped[CertificateStatus] = mapped_column(
        Enum(CertificateStatus, name="certificate_status", values_callable=lambda m: [x.value for x in m]),
        nullable=False,
        default=CertificateStatus.valid,
    )
    issued_by_proxy: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)  # 家人代办
    proxy_name: Mapped[str | None] = mapped_column(String(50), nullable=True)
    renews_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("certificates.id", ondelete="RESTRICT"), nullable=True
    )
    # The unit of this county that keeps the record (registers are filtered on it).
    org_unit_code: Mapped[str] = mapped_column(String(12), nullable=False, index=True)


class CertificateInspection(IdMixin, TenantMixin, Base):
    __tablename__ = "certificate_inspections"

    certificate_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("certificates.id", ondelete="RESTRICT"), nullable=False, index=True
    )
    inspected_on: Mapped[date] = mapped_column(Date, nullable=False)
    inspector_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    inspector_name: Mapped[str] = mapped_column(String(100), nullable=False)
    org_unit_code: Mapped[str] = mapped_column(String(12), nullable=False)
    result: Mapped[InspectionResult] = mapped_column(
        Enum(InspectionResult, name="inspection_result", values_callable=lambda m: [x.value for x in m]), nullable=False
    )
    notes: Mapped[str | None] = mapped_column(Text, nullable=True)
