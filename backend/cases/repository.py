"""Every query on cases, their subjects, links, alerts and counters, and the triage cases behind department
notifications. Built on the tenant-scoped base: lists filter in SQL on the org subtrees the caller may reach."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, case, func, select
from sqlalchemy.dialects.postgresql import insert

from backend.cases.errors import CaseNotFound
from backend.db.repository import TenantScopedRepository
from backend.db.search import contains
from backend.models import (
    AuditEvent,
    Case,
    CaseAlert,
    CaseCounter,
    CaseLink,
    CasePriority,
    CaseSignoff,
    CaseStage,
    CaseStatus,
    CaseSubject,
    IntakeTriage,
    Person,
)

SORTS: dict[str, tuple[Any, ...]] = {
    "due_at": (Case.due_at.asc().nulls_last(), Case.number),
    "-due_at": (Case.due_at.desc().nulls_last(), Case.number),
    "received_at": (Case.received_at.asc(), Case.number),
    "-received_at": (Case.received_at.desc(), Case.number),
    "number": (Case.number,),
    "-priority": (
        case(
            {CasePriority.urgent: 0, CasePriority.high: 1, CasePriority.normal: 2, CasePriority.low: 3},
            value=Case.priority,
        ),
        Case.due_at.asc().nulls_last(),
    ),
}


@dataclass(frozen=True, slots=True)
class CaseFilters:
    """What the case list can be narrowed to: `roots` is the caller's reach, the rest is optional."""

    roots: list[str]
    stage: CaseStage | None = None
    status: CaseStatus | None = None
    case_type: str | None = None
    org_unit: str | None = None
    unit_only: str | None = None  # this unit itself, not its subtree (the dashboard's row of a unit's own cases)
    assignee_id: uuid.UUID | None = None
    unassigned: bool = False
    overdue: bool | None = None
    open_only: bool = False
    due_before: datetime | None = None
    due_soon_before: datetime | None = None  # not overdue yet, due before this moment (the dashboard's 三日内到期)
    name_query: str | None = None
    pinyin_query: str | None = None
    person_ids: list[uuid.UUID] | None = None
    # Cases with a subject holding this ID number (its lookup digest), merged records included.
    subject_resident_id_hash: str | None = None
    sort: str = "due_at"


class CaseRepository(TenantScopedRepository[Case]):
    model = Case
    entity_type = "case"
    not_found = CaseNotFound

    async def get_many(self, case_ids: list[uuid.UUID]) -> list[Case]:
        """The cases with these ids, locked for update (bulk reassignment)."""
        return await self.all(self.base().where(Case.id.in_(case_ids)).with_for_update())

    def _subject_cases(self, person_ids: Select[Any] | list[uuid.UUID]) -> Select[uuid.UUID]:
        return select(CaseSubject.case_id).where(self.in_county(CaseSubject), CaseSubject.person_id.in_(person_ids))

    def _filtered(self, filters: CaseFilters) -> Select[Case]:
        statement = self.base().where(self.in_subtrees(filters.roots))
        if filters.org_unit:
            statement = statement.where(self.in_subtree(filters.org_unit))
        if filters.unit_only:
            statement = statement.where(Case.org_unit_code == filters.unit_only)
        if filters.stage is not None:
            statement = statement.where(Case.stage == filters.stage)
        if filters.open_only:
            statement = statement.where(Case.stage != CaseStage.closed)
        if filters.status is not None:
            statement = statement.where(Case.status == filters.status)
        if filters.case_type:
            statement = statement.where(Case.case_type == filters.case_type)
        if filters.unassigned:
            statement = statement.where(Case.assignee_id.is_(None))
        elif filters.assignee_id is not None:
            statement = statement.where(Case.assignee_id == filters.assignee_id)
        if filters.overdue is not None:
            statement = statement.where(Case.overdue.is_(filters.overdue))
        if filters.due_before is not None:
            statement = statement.where(Case.due_at < filters.due_before)
        if filters.due_soon_before is not None:
            statement = statement.where(self.due_soon(filters.due_soon_before))
        if filters.name_query:
            statement = statement.where(contains(Case.subject_name, filters.name_query))
        if filters.pinyin_query:
            statement = statement.where(contains(Case.subject_pinyin, filters.pinyin_query))
        if filters.person_ids is not None:
            statement = statement.where(Case.id.in_(self._subject_cases(filters.person_ids)))
        if filters.subject_resident_id_hash is not None:
            holders = select(Person.id).where(
                self.in_county(Person), Person.resident_id_hash == filters.subject_resident_id_hash
            )
            statement = statement.where(Case.id.in_(self._subject_cases(holders)))
        return statement

    @staticmethod
    def due_soon(soon: datetime) -> ColumnElement[bool]:
        """Due before `soon` and not (yet) overdue: one definition for the dashboard's figure and its list."""
        return Case.overdue.is_(False) & (Case.due_at < soon)

    async def search(self, filters: CaseFilters, *, offset: int, limit: int) -> tuple[list[Case], int]:
        """One page and the total count of matching cases."""
        ordered = self._filtered(filters).order_by(*SORTS.get(filters.sort, SORTS["due_at"]))
        return await self.page(ordered, offset=offset, limit=limit)

    async def _open_counts(
        self, roots: list[str], group: Any, soon: Any, order: Any, assignee_id: uuid.UUID | None = None
    ) -> list[tuple[Any, int, int, int]]:
        """(group, open, overdue, due soon) of the open cases under `roots` (of one assignee, when given)."""
        statement = select(
            group, func.count(), func.count().filter(Case.overdue.is_(True)), func.count().filter(soon)
        ).where(self.in_county(), Case.stage != CaseStage.closed, self.in_subtrees(roots))
        if assignee_id is not None:
            statement = statement.where(Case.assignee_id == assignee_id)
        rows = await self.session.execute(statement.group_by(group).order_by(order))
        return [(row[0], int(row[1]), int(row[2]), int(row[3])) for row in rows]

    async def workload(
        self, roots: list[str], now: datetime, soon: datetime
    ) -> list[tuple[uuid.UUID | None, int, int, int]]:
        """(assignee, open, overdue, due soon) for open cases in the subtrees, busiest first."""
        due_soon = (Case.due_at >= now) & (Case.due_at < soon)
        return await self._open_counts(roots, Case.assignee_id, due_soon, func.count().desc())

    async def counts_by_unit(self, roots: list[str], soon: datetime) -> list[tuple[str, int, int, int]]:
        """(unit code, open, overdue, due soon) of open cases in the subtrees, per unit (the dashboards)."""
        return await self._open_counts(roots, Case.org_unit_code, self.due_soon(soon), Case.org_unit_code)

    async def running_due_from(self, moment: datetime) -> list[Case]:
        """Open cases whose clock runs (not suspended) and whose due moment is at or after `moment`: the
        deadlines a calendar change can move."""
        return await self.all(
            self.base().where(Case.stage != CaseStage.closed, Case.due_at >= moment, Case.suspended_at.is_(None))
        )

    async def subjects(self, case_id: uuid.UUID) -> list[CaseSubject]:
        """The case's subjects (applicant, spouse, ...)."""
        return await self.all(self.county_rows(CaseSubject).where(CaseSubject.case_id == case_id))

    async def links(self, case_id: uuid.UUID) -> list[CaseLink]:
        """The cases this case is linked to."""
        return await self.all(self.county_rows(CaseLink).where(CaseLink.case_id == case_id))

    async def alerts(self, case_id: uuid.UUID) -> list[CaseAlert]:
        """The reminders, overdue notices and escalations raised on the case, oldest first."""
        return await self.all(
            self.county_rows(CaseAlert)
            .where(CaseAlert.case_id == case_id)
            .order_by(CaseAlert.created_at, CaseAlert.level)
        )

    async def signoffs(self, case_id: uuid.UUID) -> list[CaseSignoff]:
        """The signatures of a case's maker-checker chain, in the order they were signed."""
        statement = self.county_rows(CaseSignoff).where(CaseSignoff.case_id == case_id)
        return await self.all(statement.order_by(CaseSignoff.signed_at, CaseSignoff.step))

    async def subject_names(self, case_id: uuid.UUID) -> list[str]:
        """The names of the case's subjects, in name order (printed on the documents issued for it)."""
        statement = (
            select(Person.name)
            .join(CaseSubject, CaseSubject.person_id == Person.id)
            .where(CaseSubject.case_id == case_id, self.in_county(Person))
            .order_by(Person.name)
        )
        return await self.all(statement)

    async def add_alert_once(self, **values: Any) -> uuid.UUID | None:
        """Insert one rung of a deadline's ladder unless (case, deadline, kind, level) is already there: the new
        alert's id, or None when it was raised before."""
        statement = (
            insert(CaseAlert)
            .values(tenant_id=self.tenant_id, **values)
            .on_conflict_do_nothing(index_elements=["case_id", "deadline_key", "kind", "level"])
            .returning(CaseAlert.id)
        )
        alert_id: uuid.UUID | None = (await self.session.execute(statement)).scalar_one_or_none()
        return alert_id

    async def action_recorded(self, case_id: uuid.UUID, request_id: str) -> bool:
        """Whether the case's audit trail holds an event of this request (an action already applied)."""
        statement = select(AuditEvent.id).where(
            self.in_county(AuditEvent),
            AuditEvent.entity_type == self.entity_type,
            AuditEvent.entity_id == str(case_id),
            AuditEvent.request_id == request_id,
        )
        return await self.first(statement.limit(1)) is not None

    async def next_number(self, county_code: str, year: int) -> str:
        """330106-2026-000123: a per-county, per-year sequence, counted up in one statement (the first case of a
        year creates the counter); the row lock it takes serialises concurrent creations until commit."""
        statement = (
            insert(CaseCounter)
            .values(tenant_id=self.tenant_id, year=year, last_number=1)
            .on_conflict_do_update(
                index_elements=[CaseCounter.tenant_id, CaseCounter.year],
                set_={"last_number": CaseCounter.last_number + 1},
            )
            .returning(CaseCounter.last_number)
        )
        number = (await self.session.execute(statement)).scalar_one()
        return f"{county_code}-{year}-{number:06d}"

    async def next_numbers(self, county_code: str, year: int, count: int) -> list[str]:
        """`count` consecutive numbers of the county's sequence for `year`, counted up in one statement (as
        `next_number`, which takes one)."""
        statement = (
            insert(CaseCounter)
            .values(tenant_id=self.tenant_id, year=year, last_number=count)
            .on_conflict_do_update(
                index_elements=[CaseCounter.tenant_id, CaseCounter.year],
                set_={"last_number": CaseCounter.last_number + count},
            )
            .returning(CaseCounter.last_number)
        )
        last = (await self.session.execute(statement)).scalar_one()
        return [f"{county_code}-{year}-{number:06d}" for number in range(last - count + 1, last + 1)]

    async def triage_page(
        self, roots: list[str], *, open_only: bool, offset: int, limit: int
    ) -> tuple[list[tuple[IntakeTriage, Case]], int]:
        """One page of the triage cases (部门通报核实: a department notification behind each) of the units under
        `roots`, newest first, with the notification's county copy, and how many there are in all."""
        if not roots:
            return [], 0
        statement = (
            select(IntakeTriage)
            .join(Case, Case.id == IntakeTriage.case_id)
            .where(self.in_county(IntakeTriage), self.in_subtrees(roots))
        )
        if open_only:
            statement = statement.where(IntakeTriage.decision.is_(None))
        total = await self.count(statement)
        rows = await self.session.execute(
            statement.add_columns(Case)
            .order_by(IntakeTriage.created_at.desc(), IntakeTriage.case_id)
            .offset(offset)
            .limit(limit)
        )
        return [(triage, triaged) for triage, triaged in rows.all()], total
