"""Org unit: the county itself, a township or street office (乡/镇/街道), a village or community (村/居)."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import Boolean, CheckConstraint, Enum, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from backend.db.base import Base, IdMixin, TenantMixin, TimestampMixin, VersionedMixin


class OrgUnitKind(StrEnum):
    county = "county"  # 县/区
    township = "township"  # 乡
    town = "town"  # 镇
    subdistrict = "subdistrict"  # 街道办事处
    village = "village"  # 行政村
    community = "community"  # 社区/居委会


TOWNSHIP_KINDS = frozenset({OrgUnitKind.township, OrgUnitKind.town, OrgUnitKind.subdistrict})
VILLAGE_KINDS = frozenset({OrgUnitKind.village, OrgUnitKind.community})

# Code length per level of the national statistical division code.
COUNTY_CODE_LENGTH, TOWNSHIP_CODE_LENGTH, VILLAGE_CODE_LENGTH = 6, 9, 12


class OrgUnit(IdMixin, TimestampMixin, VersionedMixin, TenantMixin, Base):
    """A node of the county's org tree, keyed by its national statistical division code.

    County codes have 6 digits, township-level 9, village-level 12; a unit's code starts with its parent's,
    so the code prefix is the ancestry and subtree queries are a `LIKE 'prefix%'` on an indexed column.
    """

    __tablename__ = "org_units"
    __table_args__ = (
        UniqueConstraint("tenant_id", "code"),
        # text_pattern_ops lets `code LIKE '330106001%'` (a subtree) use the index.
        Index("ix_org_units_code_prefix", "tenant_id", "code", postgresql_ops={"code": "text_pattern_ops"}),
        CheckConstraint("code ~ '^([0-9]{6}|[0-9]{9}|[0-9]{12})$'", name="code_digits"),
        CheckConstraint(
            "(parent_code IS NULL AND length(code) = 6) OR "
            "(parent_code IS NOT NULL AND starts_with(code, parent_code) AND length(code) > length(parent_code))",
            name="code_under_parent",
        ),
    )

    code: Mapped[str] = mapped_column(String(12), nullable=False)
    parent_code: Mapped[str | None] = mapped_column(String(12), nullable=True)
    name: Mapped[str] = mapped_column(String(100), nullable=False)

    @property
    def level(self) -> str:
        """county / township / village, from the code length."""
        return {6: "county", 9: "township", 12: "village"}[len(self.code)]

    kind: Mapped[OrgUnitKind] = mapped_column(
        Enum(OrgUnitKind, name="org_unit_kind", values_callable=lambda kinds: [k.value for k in kinds]),
        nullable=False,
    )
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
