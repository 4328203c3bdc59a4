"""A county's settings of the accountable procedures (县级配置): reward amounts, whether village entries need the
township's confirmation, whether a full-ID view needs an information-query ledger entry, archive retention ...

One row per county holding the whole document (JSON, validated by `backend/county_settings/schemas.py`
`CountySettings`); a county without a row uses the defaults. Versioned: administrators edit it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from backend.db.base import Base, IdMixin, TenantMixin, TimestampMixin, VersionedMixin


class CountySetting(IdMixin, TimestampMixin, VersionedMixin, TenantMixin, Base):
    __tablename__ = "county_settings"
    __table_args__ = (UniqueConstraint("tenant_id"),)

    settings: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, default=dict)
