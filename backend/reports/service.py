"""The cockpit (指标驾驶舱) of a unit and the rows behind each of its figures.

- Reach: the cockpit of a unit needs report.read over it; another county's unit, or one out of reach, answers
  404 as if it did not exist. Without a unit the caller's own (the outermost root of their reach) is shown: a
  village coordinator sees her village, a township officer the township, a county supervisor the county.
- Each KPI is judged over its own period kind by default (the catalogue's: feedback monthly, inspection over the
  FP statistical year ...), or over the period the caller names for all of them.
- The rows behind a figure are the same rows the figure counts (one SQL definition, backend/reports/repository.py),
  filtered on the same unit and period. A row shows the person's name and a link to its page only where the
  caller holds the read permission of that kind of row over its unit.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from backend.authz.principal import Principal
from backend.authz.vocabulary import Action
from backend.core.clock import china_today, utc_now
from backend.core.errors import Forbidden, NotFound
from backend.core.pagination import PageParams
from backend.models import Case, EntryReview, OrgUnit, Person, RecheckItem, VerificationRequest
from backend.org import service as org
from backend.reports.counting import Tally, count_kpis, month_end, ranked
from backend.reports.errors import KpiNotFound, UnitNotFound
from backend.reports.kpis import CATALOGUE, Kpi, get_kpi
from backend.reports.periods import Period, parse_period, period_containing, trend_months
from backend.reports.repository import KPI_SOURCES, FlowSource, KpiRepository, Scope
from backend.reports.schemas import (
    Cockpit,
    KpiFigure,
    KpiRowRead,
    KpiRowsPage,
    MonthFigure,
    PeriodRead,
    UnitFigure,
)
from backend.reports.targets import effective_targets
from backend.reports.types import PeriodKind, RagStatus, RowPart, Subject

LEVELS = {6: "county", 9: "township", 12: "village"}
OWN_LEVEL = "本级"
# The permission that shows a row's person (name and link) on the drill-down, by the kind of row.
SUBJECT_READ = {
    Subject.cases: Action.case_read,
    Subject.persons: Action.person_read,
    Subject.entries: Action.person_read,
    Subject.findings: Action.person_read,
}


def period_read(period: Period) -> PeriodRead:
    return PeriodRead(
        kind=period.kind,
        key=period.key,
        label=period.label,
        label_en=period.label_en,
        start=period.start,
        end=period.end,
    )


def child_length(code: str) -> int:
    """The code length of the units one level below `code` (0 below a village)."""
    return len(code) + 3 if len(code) < 12 else 0


async def unit_in_reach(session: AsyncSession, principal: Principal, code: str | None, action: Action) -> OrgUnit:
    """The unit asked for (or the caller's own root) if the caller holds `action` over it; 404 otherwise."""
    if code is None:
        roots = principal.scopes_for(action)
        if not roots:
            raise Forbidden()
        code = roots[0] or (principal.tenant_code or "")
    if not principal.can(action, code):
        raise UnitNotFound()
    try:
        return await org.get_unit(session, code)
    except NotFound:
        raise UnitNotFound() from None


def resolve_period(kpi: Kpi, kind: PeriodKind | None, key: str | None, today: date) -> Period:
    """The period asked for, or the KPI's own kind of period containing today."""
    if kind is None:
        return period_containing(kpi.period_kind, today)
    return parse_period(kind, key) if key else period_containing(kind, today)


def _status(kpi: Kpi, value: float | None, target: float) -> RagStatus:
    return kpi.status(value, target)


async def cockpit(
    session: AsyncSession,
    principal: Principal,
    unit_code: str | None,
    kind: PeriodKind | None = None,
    key: str | None = None,
) -> Cockpit:
    """Every KPI of the unit: value, target and status over its period, the twelve-month trend and the ranking
    of the units one level below."""
    unit = await unit_in_reach(session, principal, unit_code, Action.report_read)
    as_of, today = utc_now(), china_today()
    periods = {code: resolve_period(kpi, kind, key, today) for code, kpi in CATALOGUE.items()}
    trends = {code: trend_months(period, today) for code, period in periods.items()}
    months = sorted({month for window in trends.values() for month in window})
    scope = Scope(principal.tenant_code or "", unit.code, as_of, child_length(unit.code))
    tally = Tally(await count_kpis(session, scope, months, CATALOGUE, today))
    targets = await effective_targets(session)
    names = {child.code: child.name for child in await org.list_subtree(session, unit.code)}
    figures = []
    for code, kpi in CATALOGUE.items():
        period, target = periods[code], targets[code]
        total = tally.period(kpi, period, today)
        ranking = [
            UnitFigure(
                unit_code=key_code,
                unit_name=names.get(key_code, key_code) if key_code != unit.code else f"{unit.name}（{OWN_LEVEL}）",
                own_level=key_code == unit.code,
                numerator=counts.numerator,
                denominator=counts.denominator,
                value=counts.value,
                status=_status(kpi, counts.value, target),
            )
            for key_code in sorted(tally.units(code))
            if scope.child_length
            if (counts := tally.period(kpi, period, today, key_code)).denominator
        ]
        ranked(kpi, ranking)
        figures.append(
            KpiFigure(
                code=code,
                label=kpi.label,
                target=target,
                comparator=kpi.comparator,
                status=_status(kpi, total.value, target),
                period=period_read(period),
                shortfall=kpi.shortfall,
                numerator=total.numerator,
                denominator=total.denominator,
                value=total.value,
                trend=[
                    MonthFigure(
                        month=month, numerator=counts.numerator, denominator=counts.denominator, value=counts.value
                    )
                    for month in trends[code]
                    for counts in [tally.month(code, month)]
                ],
                ranking=ranking,
            )
        )
    return Cockpit(unit_code=unit.code, unit_name=unit.name, level=LEVELS[len(unit.code)], as_of=as_of, kpis=figures)


# --- the rows behind a figure ---------------------------------------------------------------------------------


def request_facts(request: VerificationRequest) -> dict[str, Any]:
    """What a request or notice is, as JSON values, never whom it is about: kinds, the two sides, the dates."""
    return {
        "kind": request.kind.value,
        "question_type": request.question_type.value,
        "requester_county_code": request.requester_county_code,
        "requester_unit_name": request.requester_unit_name,
        "responder_county_code": request.responder_county_code,
        "responder_unit_name": request.responder_unit_name,
        "materials_received_at": request.materials_received_at.isoformat(),
        "arrived_at": request.arrived_at.isoformat(),
        "answer_due_at": request.answer_due_at.isoformat(),
        "answered_at": request.answered_at.isoformat() if request.answered_at else None,
    }


def _request_row(request: VerificationRequest, unit_code: str, moment: datetime, counted: bool) -> KpiRowRead:
    return KpiRowRead(
        subject=Subject.requests,
        id=request.id,
        reference=request.correlation_id,
        unit_code=unit_code,
        unit_name="",
        moment=moment,
        state=request.state.value,
        counted=counted,
        details=request_facts(request)
        | {"answered_on_time": request.answered_on_time, "sent_on_time": request.sent_on_time},
    )


def _case_row(case: Case, moment: datetime | None, counted: bool) -> KpiRowRead:
    return KpiRowRead(
        subject=Subject.cases,
        id=case.id,
        reference=case.number,
        unit_code=case.org_unit_code,
        unit_name="",
        moment=moment,
        state=case.outcome.value if case.outcome is not None else case.stage.value,
        counted=counted,
        details={
            "case_type": case.case_type,
            "stage": case.stage.value,
            "due_at": case.due_at,
            "closed_at": case.closed_at,
            "overdue": case.overdue,
        },
    )


def _person_row(person: Person, at: date, counted: bool) -> KpiRowRead:
    return KpiRowRead(
        subject=Subject.persons,
        id=person.id,
        reference=f"{person.org_unit_code}-{str(person.id)[:8]}",
        unit_code=person.org_unit_code,
        unit_name="",
        moment=at,
        state=person.flow_direction.value,
        counted=counted,
        details={"sex": person.sex.value, "birth_year": person.birth_date.year if person.birth_date else None},
    )


def _review_row(record: EntryReview | RecheckItem, counted: bool) -> KpiRowRead:
    """A village entry under review, or a re-check finding: about a person, filed under the village."""
    moment: datetime | None
    if isinstance(record, EntryReview):
        subject, moment, state = Subject.entries, record.created_at, record.state.value
        details: dict[str, Any] = {
            "kind": record.kind.value,
            "entered_by": record.entered_by_label,
            "decided_at": record.decided_at,
        }
    else:
        subject, moment = Subject.findings, record.checked_at
        state = record.finding.value if record.finding is not None else ""
        details = {"list_id": str(record.list_id), "corrected_fields": record.corrected_fields}
    return KpiRowRead(
        subject=subject,
        id=record.id,
        reference=f"{record.org_unit_code}-{str(record.id)[:8]}",
        unit_code=record.org_unit_code,
        unit_name="",
        moment=moment,
        state=state,
        counted=counted,
        details=details,
    )


# Where a data-quality row opens: the entry under review, or the month's re-check list.
DATA_REVIEW_LINKS = {Subject.entries: "/entry-reviews/{id}", Subject.findings: "/rechecks/{list_id}"}


def _reveal(principal: Principal, row: KpiRowRead, subject_name: str, case_id: Any = None) -> None:
    """The name and page link of a row whose subject the caller may read over the row's unit."""
    if row.subject is Subject.requests:
        holds = principal.can(Action.verification_answer, row.unit_code) or principal.can(
            Action.verification_request, row.unit_code
        )
        if holds:
            row.name = subject_name
            row.link = f"/cases/{case_id}" if case_id is not None else None
        return
    if principal.can(SUBJECT_READ[row.subject], row.unit_code):
        row.name = subject_name
        link = DATA_REVIEW_LINKS.get(row.subject, f"/{row.subject.value}/{{id}}")
        row.link = link.format(id=row.id, list_id=row.details.get("list_id"))


def _kpi(code: str) -> Kpi:
    kpi = get_kpi(code)
    if kpi is None:
        raise KpiNotFound()
    return kpi


async def kpi_rows(
    session: AsyncSession,
    principal: Principal,
    code: str,
    unit_code: str | None,
    kind: PeriodKind | None,
    key: str | None,
    part: RowPart,
    paging: PageParams,
) -> KpiRowsPage:
    """One page of the rows behind a KPI's figure for a unit and period: all of them, those in the numerator,
    or the rest."""
    kpi = _kpi(code)
    unit = await unit_in_reach(session, principal, unit_code, Action.report_read)
    as_of, today = utc_now(), china_today()
    period = resolve_period(kpi, kind, key, today)
    scope = Scope(principal.tenant_code or "", unit.code, as_of)
    repository = KpiRepository(session)
    source = KPI_SOURCES[kpi.code]
    rows: Sequence[Any]
    if isinstance(source, FlowSource):
        statement = repository.flow_rows(kpi.code, source, scope, part, period.begins_at, period.ends_before)
        rows, total = await repository.rows_page(statement, offset=paging.offset, limit=paging.size)
        person_names = await repository.person_names(
            row[0].person_id for row in rows if isinstance(row[0], EntryReview | RecheckItem)
        )
        items = [_flow_item(principal, source, row, scope, person_names) for row in rows]
    else:
        at = min(period.end, month_end(today), today)
        statement = repository.snapshot_rows(source, scope, part, at)
        rows, total = await repository.rows_page(statement, offset=paging.offset, limit=paging.size)
        items = []
        for person, counted in rows:
            item = _person_row(person, at, bool(counted))
            _reveal(principal, item, person.name)
            items.append(item)
    names = {child.code: child.name for child in await org.list_subtree(session, unit.code)}
    for item in items:
        item.unit_name = names.get(item.unit_code, item.unit_code)
    return KpiRowsPage(
        code=kpi.code,
        label=kpi.label,
        unit_code=unit.code,
        unit_name=unit.name,
        period=period_read(period),
        part=part,
        as_of=as_of,
        items=items,
        total=total,
        page=paging.page,
        size=paging.size,
    )


def _flow_item(principal: Principal, source: FlowSource, row: Any, scope: Scope, names: dict[Any, str]) -> KpiRowRead:
    record, counted = row[0], bool(row[1])
    moment = getattr(record, source.moment.key)
    if isinstance(record, VerificationRequest):
        unit_code = getattr(record, source.unit.key) or ""
        item = _request_row(record, unit_code, moment, counted)
        own_case = record.case_id if record.requester_county_code == scope.county_code else None
        _reveal(principal, item, record.subject_name, own_case)
        return item
    if isinstance(record, EntryReview | RecheckItem):
        item = _review_row(record, counted)
        _reveal(principal, item, names.get(record.person_id, ""))
        return item
    item = _case_row(record, moment, counted)
    _reveal(principal, item, record.subject_name)
    return item
