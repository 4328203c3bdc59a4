"""Every KPI's rows as SQL, and the supervision tables' queries, on the tenant-scoped base.

One definition per KPI (`KPI_SOURCES`) serves both the figure and its drill-down: the figure counts the rows that
meet the KPI's denominator condition and, of those, its numerator condition (grouped by unit and month); the
drill-down selects the same rows with the same conditions, so a figure and the rows behind it cannot disagree.
A flow KPI counts events in the period, bucketed by the month of their moment in China time; a snapshot KPI counts
persons as they stand on a day (each month's end, or today), over per-person facts worked out once (`PersonFacts`)
and the days as an unnest() of arrays, so twelve month-ends are one query. KPIs sharing a table, unit column and
moment are counted by one statement (`family`): seven statements give every KPI of a unit for twelve months.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime
from typing import Any, TypeAlias

from sqlalchemy import Date, Row, Select, and_, case, cast, false, func, literal, not_, or_, select, true
from sqlalchemy.dialects.postgresql import ARRAY
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
    EntryReview,
    EntryState,
    FlowDirection,
    Person,
    PersonStatus,
    RecheckFinding,
    RecheckItem,
    Sex,
    VerificationKind,
    VerificationRequest,
    VerificationState,
    counted_person,
)
from backend.reports.types import (
    Bucket,
    Condition,
    Day,
    FlowSource,
    KpiCode,
    PersonFacts,
    RowPart,
    Scope,
    SnapshotDay,
    SnapshotSource,
    Source,
    day_bounds,
)

CHINA_ZONE = "Asia/Shanghai"
CHECK_ROUND = "pregnancy_check_round"  # 孕情环情检查 (issue #21 will give check rounds a table of their own)
FOLLOW_UP_VISIT = "follow_up_visit"  # 随访 (likewise)
FIRST_CHILD = "first_child_registration"
NOT_APPLICABLE = (CaseOutcome.withdrawn.value, CaseOutcome.no_action.value)

AnySelect: TypeAlias = Select[*tuple[Any, ...]]
AnyRow: TypeAlias = Row[*tuple[Any, ...]]


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


# --- data review (三级把关、倒查, P25) ---------------------------------------------------------------------------

CHECKED = (RecheckFinding.correct, RecheckFinding.corrected)  # not "could not verify": nobody was found to ask


def _checked_rows(scope: Scope) -> list[Condition]:
    return [RecheckItem.checked_at.is_not(None)]


def _entry_rows(scope: Scope) -> list[Condition]:
    return []


# --- persons (snapshots) ----------------------------------------------------------------------------------------


def _on_register(day: Day, person: PersonFacts) -> Condition:
    """On the register on the day: arrived (or left, for outflow) by then (only active persons have facts)."""
    return person.registered_on <= day.at


def _woman_of_working_age(day: Day, person: PersonFacts) -> Condition:
    return and_(person.sex == Sex.female, person.birth_date <= day.born_by, person.birth_date > day.born_after)


def _women(direction: FlowDirection) -> Callable[[Day, PersonFacts], Condition]:
    """Women of working age with this flow direction, on the register on the day."""

    def counts(day: Day, person: PersonFacts) -> Condition:
        return and_(_on_register(day, person), person.direction == direction, _woman_of_working_age(day, person))

    return counts


def _covered(cover: Callable[[PersonFacts], ColumnElement[Any]]) -> Callable[[Day, PersonFacts], Condition]:
    """The day lies in the person's cover (inspected within the year before it; a certificate in force on it)."""

    def met(day: Day, person: PersonFacts) -> Condition:
        return func.coalesce(cover(person).op("@>")(day.at), false())

    return met


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
        "persons", _women(FlowDirection.inflow), _covered(lambda person: person.inspected)
    ),
    KpiCode.certificate_issue_rate: SnapshotSource(
        "persons", _women(FlowDirection.outflow), _covered(lambda person: person.certificates)
    ),
    KpiCode.data_completeness: SnapshotSource("persons", _on_register, lambda day, person: person.complete),
    KpiCode.data_entry: FlowSource(
        "entries",
        EntryReview,
        EntryReview.org_unit_code,
        EntryReview.created_at,
        _entry_rows,
        lambda scope: true(),
        lambda scope: EntryReview.state == EntryState.confirmed,
    ),
    KpiCode.data_accuracy: FlowSource(
        "findings",
        RecheckItem,
        RecheckItem.org_unit_code,
        RecheckItem.checked_at,
        _checked_rows,
        lambda scope: RecheckItem.finding.in_(CHECKED),
        lambda scope: RecheckItem.finding == RecheckFinding.correct,
    ),
}


def month_of(moment: InstrumentedAttribute[Any]) -> ColumnElement[date]:
    """The first day of the month of `moment` in China time."""
    return cast(func.date_trunc("month", func.timezone(CHINA_ZONE, moment)), Date)


def _unit_key(unit: ColumnElement[Any] | InstrumentedAttribute[Any], scope: Scope) -> ColumnElement[str]:
    """The unit a row is counted under: its code cut to the children's length (or the root). Codes are digits,
    so grouping compares them bytewise (COLLATE "C"), not by the database's language collation."""
    if not scope.child_length:
        return literal(scope.root)
    return func.left(unit, scope.child_length).collate("C")


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

    async def flow_counts(
        self, scope: Scope, sources: dict[KpiCode, FlowSource], begins_at: datetime, ends_before: datetime
    ) -> list[Bucket]:
        """The counts of flow KPIs of one family, per unit key and month, for events in [begins_at, ends_before)."""
        first = next(iter(sources.values()))
        unit_key = _unit_key(first.unit, scope).label("unit_key")
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

    def _person_facts(self, root: str) -> tuple[Any, PersonFacts]:
        """The active persons of the subtree with their facts (`PersonFacts`), as a subquery with the person's id."""
        in_force = (
            select(
                Certificate.person_id.label("person_id"),
                func.range_agg(
                    func.daterange(
                        Certificate.issue_date,
                        case((Certificate.permanent.is_(True), None), else_=Certificate.valid_until),
                        literal("[]"),
                    )
                ).label("cover"),
            )
            .where(
                self.in_county(Certificate),
                Certificate.status != CertificateStatus.revoked,
                or_(Certificate.permanent.is_(True), Certificate.valid_until >= Certificate.issue_date),
            )
            .group_by(Certificate.person_id)
            .subquery("certificate_cover")
        )
        inspected = (
            select(
                Certificate.person_id.label("person_id"),
                func.range_agg(
                    func.daterange(
                        CertificateInspection.inspected_on,
                        cast(CertificateInspection.inspected_on + func.make_interval(1), Date),
                        literal("[]"),
                    )
                ).label("cover"),
            )
            .join(Certificate, Certificate.id == CertificateInspection.certificate_id)
            .where(self.in_county(CertificateInspection), self.in_county(Certificate))
            .group_by(Certificate.person_id)
            .subquery("inspection_cover")
        )
        registered_on = func.coalesce(Person.flow_date, cast(func.timezone(CHINA_ZONE, Person.created_at), Date))
        complete = and_(
            Person.resident_id_hash.is_not(None),
            Person.birth_date.is_not(None),
            Person.marital_status.is_not(None),
            Person.registration_division_code.is_not(None),
            Person.flow_date.is_not(None),
            Person.phone_hash.is_not(None),
        )
        facts = (
            select(
                Person.id.label("id"),
                Person.org_unit_code.label("unit"),
                Person.flow_direction.label("direction"),
                Person.sex.label("sex"),
                Person.birth_date.label("birth_date"),
                registered_on.label("registered_on"),
                complete.label("complete"),
                in_force.c.cover.label("certificates"),
                inspected.c.cover.label("inspected"),
            )
            .select_from(Person)
            .outerjoin(in_force, in_force.c.person_id == Person.id)
            .outerjoin(inspected, inspected.c.person_id == Person.id)
            .where(
                self.in_county(Person),
                subtree(Person.org_unit_code, root),
                Person.status == PersonStatus.active,
                counted_person(),  # a village entry waiting for the township's confirmation counts nowhere
            )
            .subquery("person_facts")
        )
        c = facts.c
        return facts, PersonFacts(
            c.unit, c.direction, c.sex, c.birth_date, c.registered_on, c.complete, c.certificates, c.inspected
        )

    async def snapshot_counts(
        self, scope: Scope, sources: dict[KpiCode, SnapshotSource], days: Sequence[SnapshotDay]
    ) -> list[Bucket]:
        """The counts of snapshot KPIs, per unit key and month, each month read on its day. The flags are worked
        out per person and day in a subquery (fenced by OFFSET 0, so only they, not the persons' columns, are
        sorted for the grouping)."""
        if not days:
            return []
        # unnest() of array binds rather than VALUES: a statement with VALUES is compiled again on every call.
        columns = list(zip(*[(day.month, *day_bounds(day.at)) for day in days], strict=True))
        months = (
            func.unnest(*(literal(list(column), ARRAY(Date)) for column in columns))
            .table_valued("month", "at", "born_by", "born_after")
            .render_derived(name="snapshot_days")
        )
        snapshot = Day(months.c.at, months.c.born_by, months.c.born_after)
        facts, person = self._person_facts(scope.root)
        flags = []
        for code, source in sources.items():
            counted = source.counts(snapshot, person)
            # CASE, not a cast: a condition that is NULL (a missing birth date) counts as not met.
            flags.append(case((counted, 1), else_=0).label(f"{code.value}_den"))
            flags.append(case((and_(counted, source.met(snapshot, person)), 1), else_=0).label(f"{code.value}_num"))
        unit_key = _unit_key(person.unit, scope)
        per_person = (
            select(unit_key.label("unit_key"), months.c.month, *flags)
            .select_from(facts)
            .join(months, true())
            .offset(0)
            .subquery("per_person")
        )
        sums = []
        for code in sources:
            for part in ("den", "num"):
                name = f"{code.value}_{part}"
                sums.append(func.sum(per_person.c[name]).label(name))
        statement = select(per_person.c.unit_key, per_person.c.month, *sums).group_by(
            per_person.c.unit_key, per_person.c.month
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
        on, born_by, born_after = day_bounds(at)
        day = Day(literal(on, Date), literal(born_by, Date), literal(born_after, Date))
        facts, person = self._person_facts(scope.root)
        counted, met = source.counts(day, person), source.met(day, person)
        part_condition = {RowPart.all: true(), RowPart.numerator: met, RowPart.rest: not_(met)}[part]
        statement = (
            select(Person, met.label("counted"))
            .join(facts, facts.c.id == Person.id)
            .where(self.in_county(Person), counted, part_condition)
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

    async def person_names(self, person_ids: Iterable[Any]) -> dict[Any, str]:
        """The names of these persons of the county, by id (the data-quality rows are about persons)."""
        statement = select(Person.id, Person.name).where(self.in_county(Person), Person.id.in_(list(person_ids)))
        return {person_id: name for person_id, name in (await self.session.execute(statement)).all()}

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
