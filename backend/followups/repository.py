"""Every query of the follow-up sweep: the registry rows that may fall due (certificates, married women, births,
agreements), the follow-up keys already opened, and the county's follow-up lock. Built on the tenant-scoped base;
the sweep runs as the follow-up planner over the whole county, so nothing here narrows to subtrees."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import date
from typing import Any

from sqlalchemy import exists, func, select, text
from sqlalchemy.orm import aliased

from backend.db.repository import TenantScopedRepository
from backend.models import (
    Agreement,
    Case,
    Certificate,
    CertificateInspection,
    CertificateStatus,
    FlowDirection,
    MaritalStatus,
    Person,
    PersonChild,
    PersonStatus,
    Sex,
)

MARRIED = (MaritalStatus.first_marriage, MaritalStatus.remarried)


class FollowUpRepository(TenantScopedRepository[Person]):
    """Queries about the persons follow-ups are for."""

    model = Person
    entity_type = "person"

    async def _rows(self, statement: Any) -> list[tuple[Any, ...]]:
        return [tuple(row) for row in await self.session.execute(statement)]

    async def certificates(self) -> list[tuple[Any, ...]]:
        """The certificates not superseded (valid or expired), held by active persons, in id order: (certificate id,
        number, issue date, valid until, permanent, status, unit, person id, name, flow direction, flow date, last
        inspection day)."""
        last_inspected = (
            select(func.max(CertificateInspection.inspected_on))
            .where(self.in_county(CertificateInspection), CertificateInspection.certificate_id == Certificate.id)
            .scalar_subquery()
        )
        successor = aliased(Certificate)
        statement = (
            select(
                Certificate.id,
                Certificate.number,
                Certificate.issue_date,
                Certificate.valid_until,
                Certificate.permanent,
                Certificate.status,
                Certificate.org_unit_code,
                Person.id,
                Person.name,
                Person.flow_direction,
                Person.flow_date,
                last_inspected,
            )
            .join(Person, Person.id == Certificate.person_id)
            .where(
                self.in_county(Certificate),
                self.in_county(Person),
                Person.status == PersonStatus.active,
                Certificate.status.in_((CertificateStatus.valid, CertificateStatus.expired)),
                ~exists().where(self.in_county(successor), successor.renews_id == Certificate.id),
            )
            .order_by(Certificate.id)
        )
        return await self._rows(statement)

    async def married_women(self, born_after: date, born_by: date) -> list[tuple[Any, ...]]:
        """Active, married women born in (born_after, born_by], in id order: (id, name, unit, flow direction, key
        subject)."""
        statement = (
            select(Person.id, Person.name, Person.org_unit_code, Person.flow_direction, Person.key_subject)
            .where(
                self.in_county(),
                Person.status == PersonStatus.active,
                Person.sex == Sex.female,
                Person.marital_status.in_(MARRIED),
                Person.birth_date > born_after,
                Person.birth_date <= born_by,
            )
            .order_by(Person.id)
        )
        return await self._rows(statement)

    async def births(self, earliest: date, latest: date) -> list[tuple[Any, ...]]:
        """Children born between `earliest` and `latest` to active women living here (not out-migrants), by mother
        and birth order: (mother id, name, unit, birth date, birth order)."""
        statement = (
            select(Person.id, Person.name, Person.org_unit_code, PersonChild.birth_date, PersonChild.birth_order)
            .join(PersonChild, PersonChild.person_id == Person.id)
            .where(
                self.in_county(Person),
                self.in_county(PersonChild),
                Person.status == PersonStatus.active,
                Person.sex == Sex.female,
                Person.flow_direction != FlowDirection.outflow,
                PersonChild.birth_date >= earliest,
                PersonChild.birth_date <= latest,
            )
            .order_by(Person.id, PersonChild.birth_order)
        )
        return await self._rows(statement)

    async def agreements_ending(self, first: date, last: date) -> list[tuple[Any, ...]]:
        """Agreements concerning an active person whose validity ends between `first` and `last` and that no renewal
        replaced yet, soonest first: (agreement id, title, valid until, person id, name, unit)."""
        renewal = aliased(Agreement)
        statement = (
            select(Agreement.id, Agreement.title, Agreement.valid_until, Person.id, Person.name, Person.org_unit_code)
            .join(Person, Person.id == Agreement.person_id)
            .where(
                self.in_county(Agreement),
                self.in_county(Person),
                Agreement.valid_until >= first,
                Agreement.valid_until <= last,
                Person.status == PersonStatus.active,
                ~exists().where(self.in_county(renewal), renewal.renews_id == Agreement.id),
            )
            .order_by(Agreement.valid_until, Agreement.id)
        )
        return await self._rows(statement)

    async def followup_keys(
        self, key_name: str, person_ids: Iterable[uuid.UUID], case_types: Iterable[str]
    ) -> set[str]:
        """The follow-up keys (`Case.details[key_name]`) of the cases of these persons and types, open or closed."""
        key = Case.details[key_name].astext
        statement = select(key).where(
            self.in_county(Case),
            Case.primary_person_id.in_(set(person_ids)),
            Case.case_type.in_(set(case_types)),
            Case.details.has_key(key_name),
        )
        return {value for value in await self.all(statement) if value is not None}

    async def lock_county(self) -> None:
        """Serialise follow-up opening in this county until the transaction ends (overlapping sweeps, retries)."""
        await self.session.execute(
            text("SELECT pg_advisory_xact_lock(hashtextextended(:name, 0))"),
            {"name": f"liuguan.followups:{self.tenant_id}"},
        )
