"""The statistical report's counts per unit, on the tenant-scoped base: each query filters every table it reads
on the county (two locks) and on the report's subtree, and groups by the unit each row is filed under. The
columns are described in backend/reports/figures/columns.py."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, and_, case, cast, func, literal, not_, or_, select
from sqlalchemy.orm import InstrumentedAttribute

from backend.db.repository import TenantScopedRepository
from backend.db.scoping import subtree
from backend.models import (
    AuditEvent,
    Case,
    CaseOutcome,
    Certificate,
    CertificateInspection,
    FlowDirection,
    IntakeTriage,
    Person,
    PersonStatus,
    VerificationKind,
    VerificationRequest,
    VerificationState,
    counted_person,
)

CHINA_ZONE = "Asia/Shanghai"
DEPART_ACTION = "person.depart"
R = VerificationRequest

# (case type, outcomes) → column: cases closed in the period.
CLOSED_CASE_COLUMNS: dict[tuple[str, CaseOutcome], str] = {
    ("first_child_registration", CaseOutcome.registered): "first_child_registered",
    ("first_child_registration", CaseOutcome.deferred): "first_child_deferred",
    ("first_child_registration", CaseOutcome.refused): "first_child_refused",
    ("rebirth_approval", CaseOutcome.registered): "rebirth_approved",
    ("contraception_report", CaseOutcome.completed): "contraception_reports",
    ("contraception_report", CaseOutcome.registered): "contraception_reports",
    ("pregnancy_check_round", CaseOutcome.completed): "checks_done",
}


@dataclass(frozen=True, slots=True)
class ReportWindow:
    """The report's subtree and period: [begins_at, ends_before) as moments, [first_day, last_day] as days, and
    the moment "has fallen due" is judged at."""

    county_code: str
    root: str
    first_day: date
    last_day: date
    begins_at: datetime
    ends_before: datetime
    as_of: datetime


Counts = dict[str, dict[str, int]]  # column → unit code → count


class ReportFiguresRepository(TenantScopedRepository[Person]):
    model = Person

    async def _grouped(self, counts: Counts, statement: Any) -> None:
        """Add the (column, unit, count) rows of `statement` to `counts`."""
        for column, unit, number in (await self.session.execute(statement)).all():
            if column is not None and number:
                counts[column][unit] = counts[column].get(unit, 0) + int(number)

    def _in(self, unit: InstrumentedAttribute[Any], window: ReportWindow) -> Any:
        return subtree(unit, window.root)

    def _moment(self, moment: Any, window: ReportWindow) -> Any:
        return and_(moment >= window.begins_at, moment < window.ends_before)

    async def counts(self, window: ReportWindow) -> Counts:
        """Every column of the report, per unit code."""
        counts: Counts = defaultdict(dict)
        registered_on = func.coalesce(Person.flow_date, cast(func.timezone(CHINA_ZONE, Person.created_at), Date))
        stock = case(
            (Person.flow_direction == FlowDirection.inflow, "inflow_total"),
            (Person.flow_direction == FlowDirection.outflow, "outflow_total"),
        )
        await self._grouped(
            counts,
            select(stock, Person.org_unit_code, func.count())
            .where(
                self.in_county(),
                self._in(Person.org_unit_code, window),
                Person.status == PersonStatus.active,
                counted_person(),  # not a village entry waiting for the township (三级把关)
                registered_on <= window.last_day,
            )
            .group_by(stock, Person.org_unit_code),
        )
        moved = case(
            (Person.flow_direction == FlowDirection.inflow, "arrivals"),
            (Person.flow_direction == FlowDirection.outflow, "new_outflow"),
        )
        await self._grouped(
            counts,
            select(moved, Person.org_unit_code, func.count())
            .where(
                self.in_county(),
                self._in(Person.org_unit_code, window),
                Person.status != PersonStatus.merged,
                counted_person(),
                Person.flow_date >= window.first_day,
                Person.flow_date <= window.last_day,
            )
            .group_by(moved, Person.org_unit_code),
        )
        await self._grouped(
            counts,
            select(literal("departures"), AuditEvent.org_unit_code, func.count())
            .where(
                self.in_county(AuditEvent),
                AuditEvent.action == DEPART_ACTION,
                AuditEvent.org_unit_code.is_not(None),
                self._in(AuditEvent.org_unit_code, window),
                self._moment(AuditEvent.occurred_at, window),
            )
            .group_by(AuditEvent.org_unit_code),
        )
        await self._certificates(counts, window)
        await self._cases(counts, window)
        await self._verification(counts, window)
        await self._notifications(counts, window)
        return counts

    async def _certificates(self, counts: Counts, window: ReportWindow) -> None:
        await self._grouped(
            counts,
            select(literal("certificates_issued"), Certificate.org_unit_code, func.count())
            .where(
                self.in_county(Certificate),
                self._in(Certificate.org_unit_code, window),
                subtree(Certificate.issuing_unit_code, window.county_code),
                Certificate.issue_date >= window.first_day,
                Certificate.issue_date <= window.last_day,
            )
            .group_by(Certificate.org_unit_code),
        )
        await self._grouped(
            counts,
            select(literal("certificates_inspected"), CertificateInspection.org_unit_code, func.count())
            .where(
                self.in_county(CertificateInspection),
                self._in(CertificateInspection.org_unit_code, window),
                CertificateInspection.inspected_on >= window.first_day,
                CertificateInspection.inspected_on <= window.last_day,
            )
            .group_by(CertificateInspection.org_unit_code),
        )

    async def _cases(self, counts: Counts, window: ReportWindow) -> None:
        types = {case_type for case_type, _ in CLOSED_CASE_COLUMNS}
        statement = (
            select(Case.case_type, Case.outcome, Case.org_unit_code, func.count())
            .where(
                self.in_county(Case),
                self._in(Case.org_unit_code, window),
                Case.case_type.in_(types),
                Case.outcome.is_not(None),
                self._moment(Case.closed_at, window),
            )
            .group_by(Case.case_type, Case.outcome, Case.org_unit_code)
        )
        for case_type, outcome, unit, number in (await self.session.execute(statement)).all():
            column = CLOSED_CASE_COLUMNS.get((case_type, outcome)) if outcome is not None else None
            if column is not None:
                counts[column][unit] = counts[column].get(unit, 0) + int(number)

    def _mine(self) -> Any:
        return or_(R.tenant_id == self.tenant_id, R.responder_tenant_id == self.tenant_id)

    async def _verification(self, counts: Counts, window: ReportWindow) -> None:
        await self._grouped(
            counts,
            select(literal("verification_sent"), R.requester_unit_code, func.count())
            .where(
                self._mine(),
                R.requester_county_code == window.county_code,
                R.requester_off_platform.is_(False),
                R.kind == VerificationKind.request,
                self._in(R.requester_unit_code, window),
                self._moment(R.sent_at, window),
            )
            .group_by(R.requester_unit_code),
        )
        replied = R.state.in_((VerificationState.answered, VerificationState.rejected))
        await self._grouped(
            counts,
            select(literal("verification_answered"), R.responder_unit_code, func.count())
            .where(
                self._mine(),
                R.responder_county_code == window.county_code,
                R.kind == VerificationKind.request,
                replied,
                self._in(R.responder_unit_code, window),
                self._moment(R.answered_at, window),
            )
            .group_by(R.responder_unit_code),
        )
        await self._grouped(
            counts,
            select(literal("verification_late"), R.responder_unit_code, func.count())
            .where(
                self._mine(),
                R.responder_county_code == window.county_code,
                R.kind == VerificationKind.request,
                R.state != VerificationState.withdrawn,
                self._in(R.responder_unit_code, window),
                self._moment(R.answer_due_at, window),
                R.answer_due_at <= window.as_of,
                not_(and_(replied, R.answered_on_time.is_(True))),
            )
            .group_by(R.responder_unit_code),
        )

    async def _notifications(self, counts: Counts, window: ReportWindow) -> None:
        joined = (
            select(IntakeTriage, Case.org_unit_code)
            .join(Case, and_(Case.id == IntakeTriage.case_id, self.in_county(Case)))
            .where(self.in_county(IntakeTriage), self._in(Case.org_unit_code, window))
            .subquery()
        )
        rows = select(
            func.count().filter(self._moment(joined.c.created_at, window)),
            func.count().filter(and_(joined.c.decision == "verified", self._moment(joined.c.decided_at, window))),
            func.count().filter(and_(joined.c.decision == "rejected", self._moment(joined.c.decided_at, window))),
            joined.c.org_unit_code,
        ).group_by(joined.c.org_unit_code)
        for received, accepted, rejected, unit in (await self.session.execute(rows)).all():
            for column, number in (
                ("notifications_received", received),
                ("notifications_accepted", accepted),
                ("notifications_rejected", rejected),
            ):
                if number:
                    counts[column][unit] = counts[column].get(unit, 0) + int(number)
