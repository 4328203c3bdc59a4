"""Every KPI's rows as SQL, and the supervision tables' queries, on the tenant-scoped base.

One definition per KPI (`KPI_SOURCES`) serves both the figure and its drill-down: the figure counts the rows that
satisfy the KPI's denominator condition and, of those, its numerator condition (`count(*) FILTER (WHERE ...)`,
grouped by unit and month); the drill-down selects the same rows with the same conditions. So a figure and the
rows behind it cannot disagree.

- A flow KPI counts events in the period (a request that arrived, a check round that fell due), bucketed by
  the month of its moment in China time.
- A snapshot KPI counts persons as they stand on a day (the end of each month, or today for the running month):
  its conditions take that day as a column of a VALUES list of months, so twelve month-ends are one query.

KPIs that share a table, a unit column and a moment are counted by one statement (`family`): five statements
give every KPI of a unit for twelve months.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeAlias

from sqlalchemy import (
    Date,
    Interval,
    Row,
    Select,
    and_,
    case,
    cast,
    column,
    exists,
    false,
    func,
    literal,
    not_,
    or_,
    select,
    true,
    values,
)
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql.elements import ColumnElement

from backend.db.repository import TenantScopedRepository
from backend.db.scoping import subtree
from backend.models import (
    Case,
    CaseOutcome,
    CaseStage,
    Certificate,
    CertificateInspection,
    CertificateStatus,
    FlowDirection,
    Person,
    PersonStatus,
    Sex,
    VerificationKind,
    VerificationRequest,
    VerificationState,
)
from backend.reports.types import KpiCode, RowPart

CHINA_ZONE = "Asia/Shanghai"
CHECK_ROUND = "pregnancy_check_round"  # 孕情环情检查 (issue #21 will give check rounds a table of their own)
FOLLOW_UP_VISIT = "follow_up_visit"  # 随访 (likewise)
FIRST_CHILD = "first_child_registration"
NOT_APPLICABLE = (CaseOutcome.withdrawn.value, CaseOutcome.no_action.value)
WORKING_AGE = (18, 49)  # 育龄: 18 to 49 years old inclusive

Condition: TypeAlias = ColumnElement[bool]
AnySelect: TypeAlias = Select[*tuple[Any, ...]]
AnyRow: TypeAlias = Row[*tuple[Any, ...]]


@dataclass(frozen=True, slots=True)
class Scope:
    """Whose rows a count covers: the county scored (`county_code`), the subtree (`root`), the length of the
    unit codes the rows are grouped by (`child_length`: 9 townships, 12 villages, 0 no grouping), the moment
    "due by now" is judged at (`as_of`) and, for a two-way assessment, the other county of the pair
    (`counterpart`: only rows between the two count)."""

    county_code: str
    root: str
    as_of: datetime
    child_length: int = 0
    counterpart: str | None = None


@dataclass(frozen=True, slots=True)
class Bucket:
    """One KPI's counts for one unit (a child of the root, or the root itself for rows filed there) and month."""

    kpi: KpiCode
    unit: str
    month: date
    numerator: int
    denominator: int


@dataclass(frozen=True, slots=True)
class FlowSource:
    """Events of `model` at `moment`, filed under `unit`; `rows` picks the family's rows, `counts` the
    denominator among them, `met` the numerator among those."""

    family: str
    model: type[Any]
    unit: InstrumentedAttribute[Any]
    moment: InstrumentedAttribute[Any]
    rows: Callable[[Scope], list[Condition]]
    counts: Callable[[Scope], Condition]
    met: Callable[[Scope], Condition]


@dataclass(frozen=True, slots=True)
class SnapshotSource:
    """Persons as they stand on a day `at` (a column): `counts(at)` the denominator, `met(at)` the numerator."""

    family: str
    counts: Callable[[ColumnElement[date]], Condition]
    met: Callable[[ColumnElement[date]], Condition]


Source: TypeAlias = FlowSource | SnapshotSource


# --- verification requests and notices (协查与通报) -------------------------------------------------------------

R = VerificationRequest
REPLIED = (VerificationState.answered, VerificationState.rejected)


def _responder_rows(scope: Scope) -> list[Condition]:
    """Requests and notices the scored county received, not withdrawn, and settled or due by `as_of` (a request
    still pending before its due moment may yet be answered on time: it is left out, as in the rates)."""
    rows = [
        R.responder_county_code == scope.county_code,
        R.state != VerificationState.withdrawn,
        not_(and_(R.state == VerificationState.pending, R.answer_due_at > scope.as_of)),
    ]
    if scope.counterpart is not None:
        rows.append(R.requester_county_code == scope.counterpart)
    return rows


def _requester_rows(scope: Scope) -> list[Condition]:
    """Requests the scored county sent from the platform (its sending clock is known)."""
    rows = [
        R.requester_county_code == scope.county_code,
        R.requester_off_platform.is_(False),
        R.kind == VerificationKind.request,
    ]
    if scope.counterpart is not None:
        rows.append(R.responder_county_code == scope.counterpart)
    return rows


def _replied() -> Condition:
    return R.state.in_(REPLIED)


# --- cases ----------------------------------------------------------------------------------------------------


def _due_rows(scope: Scope) -> list[Condition]:
    return [Case.due_at.is_not(None)]


def _round_counts(case_type: str) -> Callable[[Scope], Condition]:
    """Rounds (or visits) of `case_type` due in the period and due by now or already closed; not those closed as
    withdrawn or needing no action."""

    def counts(scope: Scope) -> Condition:
        return and_(
            Case.case_type == case_type,
            or_(Case.due_at <= scope.as_of, Case.closed_at.is_not(None)),
            or_(Case.outcome.is_(None), Case.outcome.not_in(NOT_APPLICABLE)),
        )

    return counts


def _done() -> Condition:
    return and_(Case.stage == CaseStage.closed, Case.outcome == CaseOutcome.completed)


def _overdue_counts(scope: Scope) -> Condition:
    return and_(Case.due_at <= scope.as_of, or_(Case.outcome.is_(None), Case.outcome != CaseOutcome.withdrawn))


def _late(scope: Scope) -> Condition:
    """Not closed by the due moment: still open, or closed after it."""
    return or_(Case.closed_at.is_(None), Case.closed_at > Case.due_at)


def _closed_rows(scope: Scope) -> list[Condition]:
    return [Case.case_type == FIRST_CHILD, Case.closed_at.is_not(None)]


# --- persons (snapshots) ----------------------------------------------------------------------------------------


def _years(count: int) -> ColumnElement[Any]:
    return cast(literal(f"{count} years"), Interval)


def _on_register(at: ColumnElement[date]) -> Condition:
    """On the register on day `at`: active today, and arrived (or left, for outflow) by then."""
    registered_on = func.coalesce(Person.flow_date, cast(func.timezone(CHINA_ZONE, Person.created_at), Date))
    return and_(Person.status == PersonStatus.active, registered_on <= at)


def _woman_of_working_age(at: ColumnElement[date]) -> Condition:
    youngest, oldest = WORKING_AGE
    return and_(
        Person.sex == Sex.female,
        Person.birth_date <= at - _years(youngest),
        Person.birth_date > at - _years(oldest + 1),
    )


def _inspected_within_a_year(at: ColumnElement[date]) -> Condition:
    return exists(
        select(CertificateInspection.id)
        .join(Certificate, Certificate.id == CertificateInspection.certificate_id)
        .where(
            Certificate.tenant_id == Person.tenant_id,
            CertificateInspection.tenant_id == Person.tenant_id,
            Certificate.person_id == Person.id,
            CertificateInspection.inspected_on <= at,
            CertificateInspection.inspected_on > at - _years(1),
        )
    )


def _certificate_in_force(at: ColumnElement[date]) -> Condition:
    return exists(
        select(Certificate.id).where(
            Certificate.tenant_id == Person.tenant_id,
            Certificate.person_id == Person.id,
            Certificate.status != CertificateStatus.revoked,
            Certificate.issue_date <= at,
            or_(Certificate.permanent.is_(True), Certificate.valid_until >= at),
        )
    )


def _main_fields_filled(at: ColumnElement[date]) -> Condition:
    return and_(
        Person.resident_id_hash.is_not(None),
        Person.birth_date.is_not(None),
        Person.marital_status.is_not(None),
        Person.registration_division_code.is_not(None),
        Person.flow_date.is_not(None),
        Person.phone_hash.is_not(None),
    )


KPI_SOURCES: dict[KpiCode, Source] = {
    KpiCode.feedback_rate: FlowSource(
        "responder",
        R,
        R.responder_unit_code,
        R.arrived_at,
        _responder_rows,
        lambda scope: R.kind == VerificationKind.request,
        lambda scope: _replied(),
    ),
    KpiCode.reply_on_time: FlowSource(
        "responder",
        R,
        R.responder_unit_code,
        R.arrived_at,
        _responder_rows,
        lambda scope: R.kind == VerificationKind.request,
        lambda scope: and_(_replied(), R.answered_on_time.is_(True)),
    ),
    KpiCode.notice_acceptance: FlowSource(
        "responder",
        R,
        R.responder_unit_code,
        R.arrived_at,
        _responder_rows,
        lambda scope: R.kind == VerificationKind.notice,
        lambda scope: R.state == VerificationState.answered,
    ),
    KpiCode.send_on_time: FlowSource(
        "requester",
        R,
        R.requester_unit_code,
        R.materials_received_at,
        _requester_rows,
        lambda scope: true(),
        lambda scope: R.sent_on_time.is_(True),
    ),
    KpiCode.check_rate: FlowSource(
        "due_cases", Case, Case.org_unit_code, Case.due_at, _due_rows, _round_counts(CHECK_ROUND), lambda s: _done()
    ),
    KpiCode.followup_rate: FlowSource(
        "due_cases",
        Case,
        Case.org_unit_code,
        Case.due_at,
        _due_rows,
        _round_counts(FOLLOW_UP_VISIT),
        lambda scope: _done(),
    ),
    KpiCode.overdue_share: FlowSource(
        "due_cases", Case, Case.org_unit_code, Case.due_at, _due_rows, _overdue_counts, _late
    ),
    KpiCode.policy_compliance: FlowSource(
        "closed_cases",
        Case,
        Case.org_unit_code,
        Case.closed_at,
        _closed_rows,
        lambda scope: Case.outcome.in_((CaseOutcome.registered, CaseOutcome.refused)),
        lambda scope: Case.outcome == CaseOutcome.registered,
    ),
    KpiCode.inspection_rate: SnapshotSource(
        "persons",
        lambda at: and_(_on_register(at), Person.flow_direction == FlowDirection.inflow, _woman_of_working_age(at)),
        _inspected_within_a_year,
    ),
    KpiCode.certificate_issue_rate: SnapshotSource(
        "persons",
        lambda at: and_(_on_register(at), Person.flow_direction == FlowDirection.outflow, _woman_of_working_age(at)),
        _certificate_in_force,
    ),
    KpiCode.data_completeness: SnapshotSource("persons", _on_register, _main_fields_filled),
}


def month_of(moment: InstrumentedAttribute[Any]) -> ColumnElement[date]:
    """The first day of the month of `moment` in China time."""
    return cast(func.date_trunc("month", func.timezone(CHINA_ZONE, moment)), Date)


@dataclass(frozen=True, slots=True)
class SnapshotDay:
    """A month of a snapshot KPI and the day its state is read on (the month's last day, or today)."""

    month: date
    at: date


def _buckets(rows: Sequence[AnyRow], codes: Iterable[KpiCode]) -> list[Bucket]:
    """The buckets of a counting statement's rows (unit_key, month, <code>_den, <code>_num ...), empty ones left out."""
    buckets = []
    for row in rows:
        for code in codes:
            denominator = int(getattr(row, f"{code.value}_den"))
            if denominator:
                numerator = int(getattr(row, f"{code.value}_num"))
                buckets.append(Bucket(code, row.unit_key, row.month, numerator, denominator))
    return buckets


class KpiRepository(TenantScopedRepository[Case]):
    """The KPI counts and drill-down rows of the current county. Each query also filters every table on the
    county (two locks): verification rows are the county's own or addressed to it."""

    model = Case

    def _in_county(self, model: type[Any]) -> Condition:
        if model is R:
            return or_(R.tenant_id == self.tenant_id, R.responder_tenant_id == self.tenant_id)
        return self.in_county(model)

    def _unit_key(self, unit: InstrumentedAttribute[Any], scope: Scope) -> ColumnElement[str]:
        return func.left(unit, scope.child_length) if scope.child_length else literal(scope.root)

    async def flow_counts(
        self, scope: Scope, sources: dict[KpiCode, FlowSource], begins_at: datetime, ends_before: datetime
    ) -> list[Bucket]:
        """The counts of flow KPIs of one family, per unit key and month, for events in [begins_at, ends_before)."""
        first = next(iter(sources.values()))
        unit_key = self._unit_key(first.unit, scope).label("unit_key")
        month = month_of(first.moment).label("month")
        counts = []
        for code, source in sources.items():
            counted = source.counts(scope)
            counts.append(func.count().filter(counted).label(f"{code.value}_den"))
            counts.append(func.count().filter(and_(counted, source.met(scope))).label(f"{code.value}_num"))
        statement = (
            select(unit_key, month, *counts)
            .where(
                self._in_county(first.model),
                *first.rows(scope),
                subtree(first.unit, scope.root),
                first.moment >= begins_at,
                first.moment < ends_before,
            )
            .group_by(unit_key, month)
        )
        return _buckets((await self.session.execute(statement)).all(), sources)

    async def snapshot_counts(
        self, scope: Scope, sources: dict[KpiCode, SnapshotSource], days: Sequence[SnapshotDay]
    ) -> list[Bucket]:
        """The counts of snapshot KPIs, per unit key and month, each month read on its day."""
        if not days:
            return []
        months = values(column("month", Date), column("at", Date), name="snapshot_days").data(
            [(day.month, day.at) for day in days]
        )
        at: ColumnElement[date] = months.c.at
        unit_key = self._unit_key(Person.org_unit_code, scope).label("unit_key")
        counts = []
        for code, source in sources.items():
            counted = source.counts(at)
            counts.append(func.count().filter(counted).label(f"{code.value}_den"))
            counts.append(func.count().filter(and_(counted, source.met(at))).label(f"{code.value}_num"))
        statement = (
            select(unit_key, months.c.month, *counts)
            .select_from(Person)
            .join(months, true())
            .where(
                self.in_county(Person), subtree(Person.org_unit_code, scope.root), Person.status == PersonStatus.active
            )
            .group_by(unit_key, months.c.month)
        )
        return _buckets((await self.session.execute(statement)).all(), sources)

    def flow_rows(
        self,
        code: KpiCode,
        source: FlowSource,
        scope: Scope,
        part: RowPart,
        begins_at: datetime,
        ends_before: datetime,
        roots: list[str] | None = None,
    ) -> AnySelect:
        """The rows behind a flow KPI's figure, in moment order; `roots` narrows them further (the caller's reach
        for the rows' own read permission)."""
        counted, met = source.counts(scope), source.met(scope)
        part_condition = {RowPart.all: true(), RowPart.numerator: met, RowPart.rest: not_(met)}[part]
        statement = select(source.model, met.label("counted")).where(
            self._in_county(source.model),
            *source.rows(scope),
            subtree(source.unit, scope.root),
            source.moment >= begins_at,
            source.moment < ends_before,
            counted,
            part_condition,
        )
        if roots is not None:
            statement = statement.where(self._under(source.unit, roots))
        return statement.order_by(source.moment, source.model.id)

    def snapshot_rows(
        self, source: SnapshotSource, scope: Scope, part: RowPart, at: date, roots: list[str] | None = None
    ) -> AnySelect:
        """The persons behind a snapshot KPI's figure on day `at`, in unit and name order."""
        day: ColumnElement[date] = literal(at, Date)
        counted, met = source.counts(day), source.met(day)
        part_condition = {RowPart.all: true(), RowPart.numerator: met, RowPart.rest: not_(met)}[part]
        statement = select(Person, met.label("counted")).where(
            self.in_county(Person), subtree(Person.org_unit_code, scope.root), counted, part_condition
        )
        if roots is not None:
            statement = statement.where(self._under(Person.org_unit_code, roots))
        return statement.order_by(Person.org_unit_code, Person.name, Person.id)

    @staticmethod
    def _under(unit: InstrumentedAttribute[Any], roots: list[str]) -> Condition:
        if "" in roots:
            return true()
        if not roots:
            return false()
        return or_(*(subtree(unit, root) for root in roots))

    async def rows_page(self, statement: AnySelect, *, offset: int, limit: int) -> tuple[list[AnyRow], int]:
        """One page of drill-down rows, (row, counted), and how many there are."""
        total = await self.count(statement.order_by(None))
        page = (await self.session.execute(statement.offset(offset).limit(limit))).all()
        return list(page), total

    async def all_rows(self, statement: AnySelect) -> list[AnyRow]:
        """Every drill-down row, (row, counted): the rows behind an assessment item, frozen when it is published."""
        return list((await self.session.execute(statement)).all())

    async def counterpart_counties(self, county_code: str, begins_at: datetime, ends_before: datetime) -> list[str]:
        """The other counties this county exchanged requests or notices with in the period, by code."""
        other = case(
            (R.requester_county_code == county_code, R.responder_county_code), else_=R.requester_county_code
        ).label("other")
        statement = (
            select(other)
            .where(
                self._in_county(R),
                or_(R.requester_county_code == county_code, R.responder_county_code == county_code),
                R.requester_county_code.is_not(None),
                R.requester_county_code != R.responder_county_code,
                or_(
                    and_(R.materials_received_at >= begins_at, R.materials_received_at < ends_before),
                    and_(R.arrived_at >= begins_at, R.arrived_at < ends_before),
                ),
            )
            .distinct()
            .order_by(other)
        )
        return [str(code) for code in (await self.session.scalars(statement)).all()]
