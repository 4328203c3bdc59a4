"""Every query on cases, their subjects, links, alerts and counters, and the triage cases behind department
notifications. Built on the tenant-scoped base: lists filter in SQL on the org subtrees the caller may reach."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

import asyncpg
from sqlalchemy import ColumnElement, Select, case, func, inspect, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.orm import make_transient_to_detached

from backend.cases.errors import CaseNotFound
from backend.db.repository import TenantScopedRepository
from backend.db.search import contains
from backend.models import (
    AuditChainHead,
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
    CaseTypeConfig,
    IntakeTriage,
    OrgUnit,
    OutboxMessage,
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


# --- the case opening as hand-written SQL (docs/adr/0012-lean-case-opening.md, "Second cut") ---------------
# Run on the session's own driver connection, inside its transaction (same county, same row-level GUCs): the
# ORM's per-statement cost is most of the opening's CPU, and folding the writes into two statements keeps the
# county's counter lock (which serialises its openings) held for two round trips instead of five.

_POSTGRESQL = postgresql.dialect()
RowT = TypeVar("RowT")


def _sql_type(model: type[Any], key: str) -> str:
    return str(model.__table__.c[key].type.compile(dialect=_POSTGRESQL))


def _written_columns(model: type[Any]) -> list[str]:
    """The columns an INSERT of `model` writes: all but those the database fills (created_at, updated_at)."""
    return [column.key for column in model.__table__.columns if column.server_default is None]


def _values(row: object, columns: list[str]) -> list[Any]:
    """The row's values in `columns` order, JSON columns serialised (the session's driver codec takes text)."""
    table = type(row).__table__  # type: ignore[attr-defined]
    values = []
    for key in columns:
        value = getattr(row, key)
        if value is not None and isinstance(table.c[key].type, JSONB):
            value = json.dumps(value)
        values.append(value)
    return values


def _insert_cte(name: str, model: type[Any], columns: list[str], first: int, *, arrays: bool = False) -> str:
    """`name AS (INSERT INTO table (columns) VALUES ($first, ...))` (or `SELECT * FROM unnest(...)` of arrays)."""
    casts = [f"${first + index}::{_sql_type(model, key)}{'[]' if arrays else ''}" for index, key in enumerate(columns)]
    source = f"SELECT * FROM unnest({', '.join(casts)})" if arrays else f"VALUES ({', '.join(casts)})"
    return f"{name} AS (INSERT INTO {model.__tablename__} ({', '.join(columns)}) {source}"


_CASE_COLUMNS = _written_columns(Case)
_EVENT_COLUMNS = _written_columns(AuditEvent)
_MESSAGE_COLUMNS = _written_columns(OutboxMessage)
_SUBJECT_COLUMNS = _written_columns(CaseSubject)

# The county's override of the case type (if any) and whether the unit exists and is active (NULL: no such unit).
TYPE_AND_UNIT = f"""
SELECT config.enabled, config.overrides, config.version, unit.active AS unit_active
FROM (SELECT 1) AS one
LEFT JOIN {CaseTypeConfig.__tablename__} AS config ON config.tenant_id = $1::uuid AND config.code = $2::varchar
LEFT JOIN {OrgUnit.__tablename__} AS unit ON unit.tenant_id = $1::uuid AND unit.code = $3::varchar
"""

# The county's next number for the year, then its audit chain head locked (the head is read only once the counter
# row is locked: the same lock order as every other case opening, counter first).
CLAIM_NUMBER = f"""
WITH counter AS (
    INSERT INTO {CaseCounter.__tablename__} (tenant_id, year, last_number) VALUES ($1::uuid, $2::integer, 1)
    ON CONFLICT (tenant_id, year) DO UPDATE SET last_number = {CaseCounter.__tablename__}.last_number + 1
    RETURNING last_number
)
SELECT counter.last_number, head.last_seq, head.last_hash
FROM counter LEFT JOIN LATERAL (
    SELECT last_seq, last_hash FROM {AuditChainHead.__tablename__}
    WHERE tenant_id = $1::uuid AND counter.last_number IS NOT NULL
    FOR UPDATE
) AS head ON true
"""


def _opening_sql(with_subjects: bool) -> str:
    """The case, its audit event with the chain head's move, its outbox message (and its subjects): one statement."""
    at = 1
    parts = [_insert_cte("new_case", Case, _CASE_COLUMNS, at) + " RETURNING created_at, updated_at)"]
    at += len(_CASE_COLUMNS)
    parts.append(
        f"moved_head AS (UPDATE {AuditChainHead.__tablename__} SET last_seq = ${at}::bigint, "
        f"last_hash = ${at + 1}::{_sql_type(AuditChainHead, 'last_hash')} WHERE tenant_id = ${at + 2}::uuid)"
    )
    at += 3
    parts.append(_insert_cte("audit_event", AuditEvent, _EVENT_COLUMNS, at) + ")")
    at += len(_EVENT_COLUMNS)
    parts.append(_insert_cte("outbox_message", OutboxMessage, _MESSAGE_COLUMNS, at) + ")")
    at += len(_MESSAGE_COLUMNS)
    if with_subjects:
        parts.append(_insert_cte("subjects", CaseSubject, _SUBJECT_COLUMNS, at, arrays=True) + ")")
    return "WITH " + ",\n".join(parts) + "\nSELECT created_at, updated_at FROM new_case"


OPEN_CASE = {with_subjects: _opening_sql(with_subjects) for with_subjects in (False, True)}


def with_defaults(row: RowT) -> RowT:
    """The new row with every column attribute it was not given set to its scalar default (or None), as a flush
    would: what the opening builds its audit snapshot and first plan from, and inserts."""
    for attribute in inspect(type(row)).column_attrs:
        if attribute.key not in row.__dict__:
            default = attribute.columns[0].default
            setattr(row, attribute.key, default.arg if default is not None and default.is_scalar else None)
    return row


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

    async def _driver(self) -> asyncpg.Connection:
        """The asyncpg connection under the session, its transaction begun (the county's GUCs are set on it)."""
        connection = await self.session.connection()
        driver = (await connection.get_raw_connection()).driver_connection
        assert driver is not None
        if not driver.is_in_transaction():
            await connection.exec_driver_sql("SELECT 1")  # the session's driver begins its transaction lazily
        return driver

    async def type_and_unit(self, case_type: str, unit_code: str) -> tuple[CaseTypeConfig | None, bool | None]:
        """For opening a case, in one statement: the county's override row of `case_type` (None without one) and
        whether the unit `unit_code` is active (None: the county has no such unit)."""
        row = await (await self._driver()).fetchrow(TYPE_AND_UNIT, self.tenant_id, case_type, unit_code)
        assert row is not None
        config = None
        if row["version"] is not None:
            config = CaseTypeConfig(
                tenant_id=self.tenant_id,
                code=case_type,
                enabled=row["enabled"],
                overrides=row["overrides"],
                version=row["version"],
            )
        return config, row["unit_active"]

    async def claim_number(self, year: int) -> tuple[int, int, str]:
        """The county's next case number of `year` (the counter row stays locked until commit, serialising
        openings), and its audit chain head (last seq, last hash), locked after it. Pending changes go first."""
        await self.session.flush()
        row = await (await self._driver()).fetchrow(CLAIM_NUMBER, self.tenant_id, year)
        if row is None or row["last_seq"] is None:
            raise RuntimeError("the tenant has no audit chain head; was it provisioned through the service?")
        return row["last_number"], row["last_seq"], row["last_hash"]

    async def insert_opened(
        self, case: Case, subjects: list[CaseSubject], event: AuditEvent, message: OutboxMessage
    ) -> None:
        """Insert a new case with its subjects, its audit event (moving the chain head locked by `claim_number`)
        and its outbox message in one statement; the case and its subjects then belong to the session as stored."""
        for row in (case, *subjects):
            with_defaults(row)
        arguments = _values(case, _CASE_COLUMNS) + [event.seq, event.hash, event.tenant_id]
        arguments += _values(event, _EVENT_COLUMNS) + _values(message, _MESSAGE_COLUMNS)
        if subjects:
            columns = [_values(subject, _SUBJECT_COLUMNS) for subject in subjects]
            arguments += [list(values) for values in zip(*columns, strict=True)]
        stored = await (await self._driver()).fetchrow(OPEN_CASE[bool(subjects)], *arguments)
        assert stored is not None
        case.created_at, case.updated_at = stored["created_at"], stored["updated_at"]
        for row in (case, *subjects):
            make_transient_to_detached(row)
            self.session.add(row)

    async def next_numbers(self, county_code: str, year: int, count: int) -> list[str]:
        """`count` consecutive numbers of the county's sequence for `year`, counted up in one statement (as
        `claim_number` does for one case)."""
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
