"""Every query of the follow-up sweep: the registry rows that may fall due (certificates, married women, births,
agreements), the follow-up keys already opened, and the county's follow-up lock. Built on the tenant-scoped base;
the sweep runs as the follow-up planner over the whole county, so nothing here narrows to subtrees."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, exists, func, select, text
from sqlalchemy.orm import aliased

from backend.db.repository import TenantScopedRepository
from backend.db.scoping import subtree, under_roots
from backend.models import (
    Agreement,
    Case,
    CaseStage,
    Certificate,
    CertificateInspection,
    CertificateStatus,
    ContraceptionMeasure,
    FlowDirection,
    FollowUpVisit,
    MaritalStatus,
    Person,
    PersonChild,
    PersonStatus,
    Sex,
)
from backend.registers.repository import RegisterFilter, RegisterSelect, scoped

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
        subject, contraception measure)."""
        statement = (
            select(
                Person.id,
                Person.name,
                Person.org_unit_code,
                Person.flow_direction,
                Person.key_subject,
                Person.contraception_measure,
            )
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

    async def procedures(
        self, measures: Iterable[ContraceptionMeasure], earliest: date, latest: date
    ) -> list[tuple[Any, ...]]:
        """Active persons living here (not out-migrants) whose recorded measure is one of `measures`, dated between
        `earliest` and `latest` (both included), in id order: (id, name, unit, measure, measure date)."""
        statement = (
            select(
                Person.id, Person.name, Person.org_unit_code, Person.contraception_measure, Person.contraception_date
            )
            .where(
                self.in_county(),
                Person.status == PersonStatus.active,
                Person.flow_direction != FlowDirection.outflow,
                Person.contraception_measure.in_(list(measures)),
                Person.contraception_date >= earliest,
                Person.contraception_date <= latest,
            )
            .order_by(Person.id)
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


VISIT_CASE_TYPES = ("follow_up_visit", "check_home_visit")
"""The case types whose case a recorded visit closes."""


@dataclass(frozen=True, slots=True)
class VisitFilters:
    """Which follow-ups a list shows: open only (default: not closed, no visit recorded) or all, one kind, one
    subtree."""

    open_only: bool = True
    kind: str | None = None
    org_unit: str | None = None


class VisitRepository(TenantScopedRepository[FollowUpVisit]):
    """Follow-up visits and the follow-up cases they close."""

    model = FollowUpVisit
    entity_type = "followup_visit"

    async def of_case(self, case_id: uuid.UUID) -> FollowUpVisit | None:
        """The visit recorded for a case, if any."""
        return await self.one_or_none(self.base().where(FollowUpVisit.case_id == case_id))

    def followup_cases(self, roots: list[str], filters: VisitFilters) -> Select[Case]:
        """The follow-up cases under the roots, soonest due first."""
        statement = self.county_rows(Case).where(
            Case.case_type.in_(VISIT_CASE_TYPES), under_roots(Case.org_unit_code, roots)
        )
        if filters.open_only:
            # A visit recorded is done, even before the case workflow has closed its case.
            visited = exists().where(self.in_county(), FollowUpVisit.case_id == Case.id)
            statement = statement.where(Case.stage != CaseStage.closed, ~visited)
        if filters.kind:
            statement = statement.where(Case.details["followup_kind"].astext == filters.kind)
        if filters.org_unit:
            statement = statement.where(subtree(Case.org_unit_code, filters.org_unit))
        return statement.order_by(Case.due_at.asc().nulls_last(), Case.number)

    async def counts_by_unit(
        self, roots: list[str], due_from: datetime | None, due_before: datetime | None, org_unit: str | None
    ) -> list[tuple[str, bool, int]]:
        """(unit, visited, cases) of the follow-up cases under the roots due in [due_from, due_before)."""
        visited = FollowUpVisit.id.is_not(None)
        statement = (
            select(Case.org_unit_code, visited, func.count())
            .outerjoin(FollowUpVisit, (FollowUpVisit.case_id == Case.id) & self.in_county())
            .where(self.in_county(Case), Case.case_type.in_(VISIT_CASE_TYPES), under_roots(Case.org_unit_code, roots))
            .group_by(Case.org_unit_code, visited)
        )
        if org_unit:
            statement = statement.where(subtree(Case.org_unit_code, org_unit))
        if due_from is not None:
            statement = statement.where(Case.due_at >= due_from)
        if due_before is not None:
            statement = statement.where(Case.due_at < due_before)
        return [(unit, bool(seen), int(count)) for unit, seen, count in await self.session.execute(statement)]

    def register(self, register_filter: RegisterFilter) -> RegisterSelect:
        """Follow-up register rows: (Case, Person or None, FollowUpVisit or None), by due day, filtered on the case's
        unit and, for the period, on its due moment."""
        statement = (
            select(Case, Person, FollowUpVisit)
            .outerjoin(Person, (Person.id == Case.primary_person_id) & self.in_county(Person))
            .outerjoin(FollowUpVisit, (FollowUpVisit.case_id == Case.id) & self.in_county())
            .where(self.in_county(Case), Case.case_type.in_(VISIT_CASE_TYPES))
            .order_by(Case.due_at, Case.number)
        )
        return scoped(statement, Case.org_unit_code, Case.due_at, register_filter, timestamps=True)
