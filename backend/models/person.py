"""The floating-population registry (流动人口登记): one row per person per county, with their children.

ID and phone numbers exist only as ciphertext plus a keyed lookup digest (backend/core/crypto.py). A person
is managed by one org unit of the county (`org_unit_code`): the residence village for an inflow person,
the household-registration village for an outflow person. Every change is an audit event, which is also the
person's change history.
"""

from __future__ import annotations

import uuid
from datetime import date
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    Boolean,
    ColumnElement,
    Date,
    Enum,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    or_,
)
from sqlalchemy import Enum as SAEnum
from sqlalchemy.orm import Mapped, mapped_column

from backend.db.base import Base, IdMixin, TenantMixin, TimestampMixin, VersionedMixin


def _enum(kind: type[StrEnum], name: str) -> Enum:
    return Enum(kind, name=name, values_callable=lambda members: [m.value for m in members])


class Sex(StrEnum):
    male = "male"
    female = "female"


class FlowDirection(StrEnum):
    inflow = "inflow"  # 流入: lives here, registered elsewhere
    outflow = "outflow"  # 流出: registered here, lives elsewhere
    within_county = "within_county"  # 县内流动


class MaritalStatus(StrEnum):
    unmarried = "unmarried"  # 未婚
    first_marriage = "first_marriage"  # 初婚
    remarried = "remarried"  # 再婚
    divorced = "divorced"  # 离婚
    widowed = "widowed"  # 丧偶


class ContraceptionMeasure(StrEnum):
    none = "none"
    iud = "iud"  # 上环
    sterilisation = "sterilisation"  # 绝育
    implant = "implant"  # 皮埋
    injection = "injection"  # 针剂
    pill = "pill"  # 口服药
    condom = "condom"  # 避孕套
    other = "other"


class PersonStatus(StrEnum):
    active = "active"
    departed = "departed"  # 注销: left the county, kept for the registers
    merged = "merged"  # folded into another record (duplicate); reversible by an admin


class ReviewState(StrEnum):
    """Where a record stands in the township's review of village entries (三级把关, backend/data_review/)."""

    pending = "pending"  # 待审核: registered by a village coordinator, not yet confirmed (does not count)
    rejected = "rejected"  # 未通过审核: the township sent the registration back (does not count)
    changes_pending = "changes_pending"  # counts as it stands; a change to it waits for confirmation


class Person(IdMixin, TimestampMixin, VersionedMixin, TenantMixin, Base):
    __tablename__ = "persons"
    __table_args__ = (
        # One person per ID per county; records without an ID are matched by name, sex and birth date.
        Index(
            "uq_persons_resident_id_hash",
            "tenant_id",
            "resident_id_hash",
            unique=True,
            postgresql_where="resident_id_hash IS NOT NULL AND status <> 'merged'",
        ),
        Index("ix_persons_unit", "tenant_id", "org_unit_code", postgresql_ops={"org_unit_code": "text_pattern_ops"}),
        Index("ix_persons_name_trgm", "name", postgresql_using="gin", postgresql_ops={"name": "gin_trgm_ops"}),
        Index(
            "ix_persons_pinyin_trgm",
            "name_pinyin",
            postgresql_using="gin",
            postgresql_ops={"name_pinyin": "gin_trgm_ops"},
        ),
        Index("ix_persons_phone_hash", "tenant_id", "phone_hash"),
    )

    name: Mapped[str] = mapped_column(String(50), nullable=False)
    name_pinyin: Mapped[str] = mapped_column(String(120), nullable=False)
    name_initials: Mapped[str] = mapped_column(String(20), nullable=False)
    sex: Mapped[Sex] = mapped_column(_enum(Sex, "sex"), nullable=False)
    ethnicity: Mapped[str] = mapped_column(String(20), nullable=False, default="汉族")
    birth_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    resident_id_ciphertext: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    resident_id_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    phone_ciphertext: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    phone_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)

    org_unit_code: Mapped[str] = mapped_column(String(12), nullable=False)
    flow_direction: Mapped[FlowDirection] = mapped_column(_enum(FlowDirection, "flow_direction"), nullable=False)
    flow_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    # 户籍地: household-registration place.
    registration_division_code: Mapped[str | None] = mapped_column(String(12), nullable=True)
    registration_address: Mapped[str | None] = mapped_column(String(200), nullable=True)
    # 现居住地: where the person lives now (a division code and address outside the county for outflow).
    residence_division_code: Mapped[str | None] = mapped_column(String(12), nullable=True)
    residence_address: Mapped[str | None] = mapped_column(String(200), nullable=True)
    # Origin (inflow) or destination (outflow) as recorded on the registers.
    flow_origin_destination: Mapped[str | None] = mapped_column(String(200), nullable=True)
    landlord_or_employer: Mapped[str | None] = mapped_column(String(200), nullable=True)

    marital_status: Mapped[MaritalStatus | None] = mapped_column(_enum(MaritalStatus, "marital_status"), nullable=True)
    spouse_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("persons.id", ondelete="SET NULL"), nullable=True
    )
    contraception_measure: Mapped[ContraceptionMeasure | None] = mapped_column(
        _enum(ContraceptionMeasure, "contraception_measure"), nullable=True
    )
    contraception_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    key_subject: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)  # 重点对象
    notes: Mapped[str | None] = mapped_column(Text, nullable=True)

    status: Mapped[PersonStatus] = mapped_column(
        _enum(PersonStatus, "person_status"), nullable=False, default=PersonStatus.active
    )
    merged_into_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("persons.id", ondelete="RESTRICT"), nullable=True
    )
    # NULL: confirmed (or entered by someone who needs no confirmation). See `counted_person`.
    review_state: Mapped[ReviewState | None] = mapped_column(
        SAEnum(ReviewState, name="review_state", native_enum=False, length=20), nullable=True
    )


def counted_person(person: Any = Person) -> ColumnElement[bool]:
    """The condition "this record counts in the registers and reports": not a registration still waiting for the
    township's confirmation, nor one it rejected. `person` is the model or an alias of it."""
    return or_(person.review_state.is_(None), person.review_state == ReviewState.changes_pending)


class PersonChild(IdMixin, TenantMixin, Base):
    """A child of a registered person (birth order, date, sex), for the childbearing status on the registers."""

    __tablename__ = "person_children"
    __table_args__ = (UniqueConstraint("person_id", "birth_order"),)

    person_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("persons.id", ondelete="CASCADE"), nullable=False, index=True
    )
    birth_order: Mapped[int] = mapped_column(Integer, nullable=False)
    birth_date: Mapped[date] = mapped_column(Date, nullable=False)
    sex: Mapped[Sex] = mapped_column(_enum(Sex, "sex"), nullable=False)
    name: Mapped[str | None] = mapped_column(String(50), nullable=True)
