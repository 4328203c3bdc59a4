"""Yearly archive volumes (年度归档, seeds-spec P26): the closed cases of a year under one unit and their documents,
bound into a volume (an index PDF and a manifest with the SHA-256 of every document object), stored write-once in
object storage and kept for the county's retention years (「装订成卷、标准归档、妥善保存」).
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Date, DateTime, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from backend.db.base import Base, IdMixin, TenantMixin, TimestampMixin, VersionedMixin


class ArchiveState(StrEnum):
    building = "building"  # 归档中: the worker binds it
    built = "built"  # 已归档: index and manifest stored, retained
    failed = "failed"  # 归档失败: may be requested again


class ArchiveVolume(IdMixin, TimestampMixin, VersionedMixin, TenantMixin, Base):
    __tablename__ = "archive_volumes"
    __table_args__ = (UniqueConstraint("tenant_id", "org_unit_code", "year"),)

    org_unit_code: Mapped[str] = mapped_column(String(12), nullable=False)
    year: Mapped[int] = mapped_column(Integer, nullable=False)
    state: Mapped[str] = mapped_column(String(20), nullable=False, default=ArchiveState.building.value)
    case_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    document_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    index_key: Mapped[str | None] = mapped_column(String(300), nullable=True)
    index_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    manifest_key: Mapped[str | None] = mapped_column(String(300), nullable=True)
    manifest_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    retain_until: Mapped[date | None] = mapped_column(Date, nullable=True)
    requested_by: Mapped[str] = mapped_column(String(80), nullable=False)
    built_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    failure: Mapped[str | None] = mapped_column(Text, nullable=True)
