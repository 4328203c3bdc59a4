"""Every query on cases. Lists filter in SQL on the org subtrees the caller may reach."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, case, func, select
from sqlalchemy.dialects.postgresql import insert

from backend.cases.errors import CaseNotFound
from backend.db.repository import TenantScopedRepository
from backend.db.scoping import under_roots
from backend.models import Case, CaseAlert, CaseCounter, CaseLink, CasePriority, CaseStage, CaseStatus, CaseSubject

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
    roots: list[str]
    stage: CaseStage | None = None
    status: CaseStatus | None = None
    case_type: str | None = None
    org_unit: str | None = None
    assignee_id: uuid.UUID | None = None
    unassigned: bool = False
    overdue: bool | None = None
    open_only: bool = False
    due_before: datetime | None = None
    name_query: str | None = None
    pinyin_query: str | None = None
    person_ids: list[uuid.UUID] | None = None
    sort: str = "due_at"


class CaseRepository(TenantScopedRepository[Case]):
    model = Case
    entity_type = "case"
    not_found = CaseNotFound

    async def get_many(self, case_ids: list[uuid.UUID]) -> list[Case]:
        """The cases with these ids, locked for update (bulk reassignment)."""
        return await self.all(self.base().where(Case.id.in_(case_ids)).with_for_update())

    def _filtered(self, filters: CaseFilters) -> Select[Case]:
        statement = self.base().where(self.in_subtrees(filters.roots))
        if filters.org_unit:
            statement = statement.where(self.in_subtree(filters.org_unit))
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
        if filters.name_query:
            statement = statement.where(Case.subject_name.contains(filters.name_query, autoescape=True))
        if filters.pinyin_query:
            statement = statement.where(Case.subject_pinyin.contains(filters.pinyin_query, autoescape=True))
        if filters.person_ids is not None:
            subjects = select(CaseSubject.case_id).where(
                CaseSubject.tenant_id == self.tenant_id, CaseSubject.person_id.in_(filters.person_ids)
            )
            statement = statement.where(Case.id.in_(subjects))
        return statement

    async def search(self, filters: CaseFilters, *, offset: int, limit: int) -> tuple[list[Case], int]:
        """One page and the total count of matching cases."""
        ordered = self._filtered(filters).order_by(*SORTS.get(filters.sort, SORTS["due_at"]))
        return await self.page(ordered, offset=offset, limit=limit)

    async def workload(
        self, roots: list[str], now: datetime, soon: datetime
    ) -> list[tuple[uuid.UUID | None, int, int, int]]:
        """(assignee, open, overdue, due soon) for open cases in the subtrees."""
        statement = (
            select(
                Case.assignee_id,
                func.count(),
                func.count().filter(Case.overdue.is_(True)),
                func.count().filter(Case.due_at >= now, Case.due_at < soon),
            )
            .where(
                Case.tenant_id == self.tenant_id, Case.stage != CaseStage.closed, under_roots(Case.org_unit_code, roots)
            )
            .group_by(Case.assignee_id)
            .order_by(func.count().desc())
        )
        return [(row[0], int(row[1]), int(row[2]), int(row[3])) for row in await self.session.execute(statement)]

    async def subjects(self, case_id: uuid.UUID) -> list[CaseSubject]:
        statement = select(CaseSubject).where(CaseSubject.tenant_id == self.tenant_id, CaseSubject.case_id == case_id)
        return list((await self.session.execute(statement)).scalars().all())

    async def links(self, case_id: uuid.UUID) -> list[CaseLink]:
        statement = select(CaseLink).where(CaseLink.tenant_id == self.tenant_id, CaseLink.case_id == case_id)
        return list((await self.session.execute(statement)).scalars().all())

    async def alerts(self, case_id: uuid.UUID) -> list[CaseAlert]:
        """The reminders, overdue notices and escalations raised on the case, oldest first."""
        statement = (
            select(CaseAlert)
            .where(CaseAlert.tenant_id == self.tenant_id, CaseAlert.case_id == case_id)
            .order_by(CaseAlert.created_at, CaseAlert.level)
        )
        return list((await self.session.execute(statement)).scalars().all())

    async def next_number(self, county_code: str, year: int) -> str:
        """330106-2026-000123: a per-county, per-year sequence; the row lock serialises concurrent creations."""
        counter = (
            await self.session.execute(
                select(CaseCounter)
                .where(CaseCounter.tenant_id == self.tenant_id, CaseCounter.year == year)
                .with_for_update()
            )
        ).scalar_one_or_none()
        if counter is None:
            await self.session.execute(
                insert(CaseCounter).values(tenant_id=self.tenant_id, year=year, last_number=0).on_conflict_do_nothing()
            )
            counter = (
                await self.session.execute(
                    select(CaseCounter)
                    .where(CaseCounter.tenant_id == self.tenant_id, CaseCounter.year == year)
                    .with_for_update()
                )
            ).scalar_one()
        counter.last_number += 1
        return f"{county_code}-{year}-{counter.last_number:06d}"

    async def counts_by_unit(
        self, roots: list[str], soon: datetime, assignee_id: uuid.UUID | None = None
    ) -> list[tuple[str, int, int, int]]:
        """(unit code, open, overdue, due soon) of open cases in the subtrees, per unit; only one assignee's
        cases when `assignee_id` is given (the dashboards)."""
        statement = (
            select(
                Case.org_unit_code,
                func.count(),
                func.count().filter(Case.overdue.is_(True)),
                func.count().filter(Case.overdue.is_(False), Case.due_at < soon),
            )
            .where(
                Case.tenant_id == self.tenant_id, Case.stage != CaseStage.closed, under_roots(Case.org_unit_code, roots)
            )
            .group_by(Case.org_unit_code)
            .order_by(Case.org_unit_code)
        )
        if assignee_id is not None:
            statement = statement.where(Case.assignee_id == assignee_id)
        return [(row[0], int(row[1]), int(row[2]), int(row[3])) for row in await self.session.execute(statement)]
