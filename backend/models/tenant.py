"""Tenant (县/区): one county on the shared instance."""

from __future__ import annotations

from sqlalchemy import Boolean, CheckConstraint, String
from sqlalchemy.orm import Mapped, mapped_column

from backend.db.base import Base, IdMixin, TimestampMixin, VersionedMixin


class Tenant(IdMixin, TimestampMixin, VersionedMixin, Base):
    """A county. `code` is its 6-digit national division code (行政区划代码), e.g. 330106."""

    __tablename__ = "tenants"
    __table_args__ = (CheckConstraint("code ~ '^[0-9]{6}$'", name="code_six_digits"),)

    code: Mapped[str] = mapped_column(String(6), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
