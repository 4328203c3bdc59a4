"""Every query of the certificate register, on the tenant-scoped base (backend/db/repository.py): tenant scoping
lives there (the second lock after row-level security); subtree scoping is the caller's list of roots
(Principal.scopes_for)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import ColumnElement, ScalarSelect, Select, and_, func, or_, select
from sqlalchemy.orm import aliased

from backend.certificates.errors import CertificateNotFound
from backend.db.repository import TenantScopedRepository
from backend.models import Certificate, CertificateInspection, CertificateStatus, FlowDirection, Person

INSPECTION_INTERVAL_DAYS = 365
"""「婚育证明首次查验后，每年至少查验一次。」: due when there was no inspection in the last 365 days."""


@dataclass(frozen=True, slots=True)
class CertificateFilters:
    person_id: uuid.UUID | None = None
    org_unit_code: str | None = None  # a subtree root
    status: CertificateStatus | None = None  # the effective status (expired counted from today)
    inspection_due: bool | None = None
    expiring_within_days: int | None = None
    number: str | None = None


@dataclass(frozen=True, slots=True)
class CertificateRow:
    """A certificate with what its read view is computed from."""

    certificate: Certificate
    last_inspected_on: date | None
    renewed_by_id: uuid.UUID | None
    resides_here: bool  # the holder lives in this county (not an outflow person), so this county inspects


def in_force(today: date) -> ColumnElement[bool]:
    """Stored as valid and not past its end date (permanent certificates have none)."""
    return and_(
        Certificate.status == CertificateStatus.valid,
        or_(Certificate.permanent.is_(True), Certificate.valid_until >= today),
    )


def expired(today: date) -> ColumnElement[bool]:
    return or_(
        Certificate.status == CertificateStatus.expired,
        and_(
            Certificate.status == CertificateStatus.valid,
            Certificate.permanent.is_(False),
            Certificate.valid_until < today,
        ),
    )


class CertificateRepository(TenantScopedRepository[Certificate]):
    model = Certificate
    entity_type = "certificate"
    not_found = CertificateNotFound

    async def number_taken(self, number: str) -> bool:
        """Whether a certificate of this county already has this number (the unique constraint is the backstop)."""
        return await self.first(self.base().where(Certificate.number == number).limit(1)) is not None

    async def in_force_for_person(self, person_id: uuid.UUID, today: date) -> list[Certificate]:
        """The person's certificates still in force today (at most one, unless data was imported that way)."""
        return await self.all(self.base().where(Certificate.person_id == person_id, in_force(today)))

    async def inspections(self, certificate_id: uuid.UUID) -> list[CertificateInspection]:
        """A certificate's inspections, newest first."""
        statement = (
            self.county_rows(CertificateInspection)
            .where(CertificateInspection.certificate_id == certificate_id)
            .order_by(CertificateInspection.inspected_on.desc(), CertificateInspection.id)
        )
        return await self.all(statement)

    def _rows(self) -> tuple[Select[Certificate, date, uuid.UUID, FlowDirection], ScalarSelect[date]]:
        """Certificates joined with their holder, the last inspection date and the renewal that replaced them."""
        last_inspected = (
            select(func.max(CertificateInspection.inspected_on))
            .where(self.in_county(CertificateInspection), CertificateInspection.certificate_id == Certificate.id)
            .scalar_subquery()
        )
        successor = aliased(Certificate)
        renewed_by = (
            select(successor.id)
            .where(self.in_county(successor), successor.renews_id == Certificate.id)
            .order_by(successor.created_at)
            .limit(1)
            .scalar_subquery()
        )
        statement = (
            select(
                Certificate,
                last_inspected.label("last_inspected_on"),
                renewed_by.label("renewed_by_id"),
                Person.flow_direction,
            )
            .join(Person, and_(Person.id == Certificate.person_id, self.in_county(Person)))
            .where(self.in_county())
        )
        return statement, last_inspected

    @staticmethod
    def _row(result: Any) -> CertificateRow:
        return CertificateRow(
            certificate=result[0],
            last_inspected_on=result[1],
            renewed_by_id=result[2],
            resides_here=result[3] != FlowDirection.outflow,
        )

    async def row(self, certificate_id: uuid.UUID) -> CertificateRow | None:
        """One certificate with its computed inputs."""
        statement, _ = self._rows()
        result = (await self.session.execute(statement.where(Certificate.id == certificate_id))).first()
        return self._row(result) if result is not None else None

    async def search(
        self, roots: list[str], filters: CertificateFilters, today: date, *, offset: int, limit: int
    ) -> tuple[list[CertificateRow], int]:
        """Certificates kept by units under `roots`, filtered; newest issue first. Returns (page, total)."""
        statement, last_inspected = self._rows()
        conditions: list[ColumnElement[bool]] = [self.in_subtrees(roots)]
        if filters.person_id is not None:
            conditions.append(Certificate.person_id == filters.person_id)
        if filters.org_unit_code:
            conditions.append(self.in_subtree(filters.org_unit_code))
        if filters.number:
            conditions.append(Certificate.number == filters.number)
        if filters.status is CertificateStatus.valid:
            conditions.append(in_force(today))
        elif filters.status is CertificateStatus.expired:
            conditions.append(expired(today))
        elif filters.status is not None:
            conditions.append(Certificate.status == filters.status)
        if filters.expiring_within_days is not None:
            conditions.append(
                and_(
                    in_force(today),
                    Certificate.permanent.is_(False),
                    Certificate.valid_until <= today + timedelta(days=filters.expiring_within_days),
                )
            )
        if filters.inspection_due is not None:
            due = and_(
                in_force(today),
                Person.flow_direction != FlowDirection.outflow,
                or_(last_inspected.is_(None), last_inspected <= today - timedelta(days=INSPECTION_INTERVAL_DAYS)),
            )
            conditions.append(due if filters.inspection_due else ~due)
        statement = statement.where(*conditions)
        total_statement = select(func.count()).select_from(statement.order_by(None).subquery())
        total = (await self.session.execute(total_statement)).scalar_one()
        page = statement.order_by(Certificate.issue_date.desc(), Certificate.number).offset(offset).limit(limit)
        return [self._row(result) for result in (await self.session.execute(page)).all()], total
