"""Two-way assessment (双向考核, P14): 「从流出地掌握的情况,考核流入地的职责落实情况;从流入地掌握的情况,考核流出地」.

- A county's scheme for an FP statistical year (考核方案: items over the KPI catalogue with weights, targets and
  一票否决 items; backend/reports/scoring.py); the default scheme applies until the county saves its own.
- Scoring a counterpart county uses only the rows the two share (requests and notices between them), so the
  county scores the other from its own side of them: as the inflow county, the registration county's answers and
  notices to it; as the outflow county, the residence county's. The rows behind each item are listed with what
  each row is (reference, units, dates, state), never who it is about: neither county sees the other's persons.
- Publishing freezes the scores with their rows (a correction is a new version with a reason), and the assessed
  county then sees the score it got. It may contest an item with a reason; the assessor answers (upheld or
  dismissed). Each side audits its own step in its own chain.
- Townships are ranked inside the county by the same scheme over every item; the rows behind a township's item
  are the KPI's drill-down for that township and year.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from backend.audit import service as audit
from backend.authz.principal import Principal
from backend.authz.vocabulary import Action
from backend.core.clock import china_today, utc_now
from backend.core.errors import Conflict, Forbidden
from backend.models import Assessment, AssessmentContest, AssessmentScheme, Tenant, VerificationRequest
from backend.org import service as org
from backend.persons.divisions import division_name
from backend.reports.counting import Tally, count_kpis
from backend.reports.errors import (
    ContestAlreadyAnswered,
    CorrectionReasonRequired,
    CounterpartIsSelf,
    InvalidPeriod,
    ItemNotFound,
    NotAssessedCounty,
    SchemeRejected,
    SchemeVersionConflict,
)
from backend.reports.periods import Period, fp_year, month_of
from backend.reports.records.repository import (
    AssessmentContestRepository,
    AssessmentRepository,
    AssessmentSchemeRepository,
)
from backend.reports.repository import KPI_SOURCES, FlowSource, KpiRepository, Scope
from backend.reports.schemas import (
    AssessmentItem,
    AssessmentPublish,
    AssessmentRead,
    ContestAnswer,
    ContestCreate,
    ContestRead,
    ItemScore,
    PeriodRead,
    SchemeRead,
    SchemeUpdate,
    ScoreRead,
)
from backend.reports.scoring import (
    DEFAULT_SCHEME,
    SchemeItem,
    items_from_json,
    scheme_problems,
    score_item,
    total_score,
)
from backend.reports.service import period_read, request_facts
from backend.reports.targets import effective_targets
from backend.reports.types import AssessmentKind, ContestState, KpiCode, PeriodKind, RowPart
from backend.tenants import service as tenants
from backend.tenants.errors import TenantNotFound


class AssessmentPublishedMeanwhile(Conflict):
    def __init__(self) -> None:
        super().__init__(
            "该考核结果刚由他人发布，请刷新后重试 / Someone published this assessment a moment ago; reload and retry",
            code="ASSESSMENT_PUBLISHED_MEANWHILE",
        )


def year_period(year: int) -> Period:
    if not 2000 <= year <= 2100:
        raise InvalidPeriod("year", PeriodKind.fp_year)
    return fp_year(year)


def _county(principal: Principal, action: Action) -> str:
    """The caller's county code, if the caller holds `action` over the whole county (assessment is a county's)."""
    code = principal.tenant_code or ""
    if not principal.can(action, code):
        raise Forbidden()
    return code


# --- the scheme ---------------------------------------------------------------------------------------------


async def _scheme(session: AsyncSession, year: int) -> tuple[list[SchemeItem], AssessmentScheme | None]:
    row = await AssessmentSchemeRepository(session).for_year(year)
    return (items_from_json(row.items) if row else list(DEFAULT_SCHEME)), row


def _scheme_read(year: int, items: list[SchemeItem], row: AssessmentScheme | None) -> SchemeRead:
    return SchemeRead(
        year=year,
        period=period_read(year_period(year)),
        items=[item.as_json() | {"label": item.kpi.label, "counterpart": item.kpi.counterpart} for item in items],
        version=row.version if row else None,
        updated_by=row.updated_by if row else None,
        default=row is None,
    )


async def get_scheme(session: AsyncSession, principal: Principal, year: int) -> SchemeRead:
    """The county's scheme of the FP year (the default one until it saves its own)."""
    _county(principal, Action.assessment_read)
    items, row = await _scheme(session, year)
    return _scheme_read(year, items, row)


async def save_scheme(session: AsyncSession, principal: Principal, year: int, update: SchemeUpdate) -> SchemeRead:
    """Save the county's scheme of the FP year (audited); changing a saved one needs its version."""
    code = _county(principal, Action.assessment_manage)
    year_period(year)
    shares = [
        (
            item.kpi_code,
            item.weight,
            None if item.target_percent is None else round(item.target_percent / 100, 4),
            item.veto,
        )
        for item in update.items
    ]
    if problems := scheme_problems(shares):
        raise SchemeRejected(problems)
    items = [
        {"kpi_code": kpi.value, "weight": weight, "target": target, "veto": veto}
        for kpi, weight, target, veto in shares
    ]
    repository = AssessmentSchemeRepository(session)
    row = await repository.for_year(year, for_update=True)
    old = row.items if row else None
    if row is None:
        row = AssessmentScheme(tenant_id=repository.tenant_id, year=year, items=items, updated_by=principal.label[:100])
        repository.add(row)
        await repository.flush_unique("uq_assessment_schemes_tenant_id_year", SchemeVersionConflict)
    else:
        if update.version != row.version:
            raise SchemeVersionConflict()
        row.items, row.updated_by = items, principal.label[:100]
        await repository.flush()
    await audit.record(
        session,
        action="assessment.scheme",
        entity_type="assessment_scheme",
        entity_id=row.id,
        changes={"year": year, "items": [old, items]},
        org_unit_code=code,
    )
    return _scheme_read(year, items_from_json(items), row)


# --- scoring ------------------------------------------------------------------------------------------------


def _shared_row(request: VerificationRequest, counted: bool) -> dict[str, Any]:
    """A shared request or notice as the assessment shows it: what it is, never whom it is about."""
    return {
        "reference": request.correlation_id,
        **request_facts(request),
        "state": request.state.value,
        "counted": counted,
    }


def _items(
    scheme: list[SchemeItem],
    targets: dict[KpiCode, float],
    tally: Tally,
    period: Period,
    unit: str | None,
    rows: dict[KpiCode, list[dict[str, Any]]] | None = None,
) -> tuple[list[ItemScore], float | None, bool]:
    today = china_today()
    scores: list[ItemScore] = []
    points = []
    for item in scheme:
        target = item.target if item.target is not None else targets[item.kpi.code]
        counts = tally.period(item.kpi, period, today, unit)
        scored = score_item(item.kpi, item.weight, target, counts.value)
        points.append((item.weight, scored, item.veto))
        scores.append(
            ItemScore(
                kpi_code=item.kpi.code,
                label=item.kpi.label,
                weight=item.weight,
                target=target,
                comparator=item.kpi.comparator,
                veto=item.veto,
                numerator=counts.numerator,
                denominator=counts.denominator,
                value=counts.value,
                score=scored.score,
                met=scored.met,
                rows=(rows or {}).get(item.kpi.code, []),
            )
        )
    total, vetoed = total_score(points)
    return scores, total, vetoed


def _months(period: Period) -> list[Any]:
    today_month = month_of(china_today())
    return [month for month in period.months() if month <= today_month]


async def _county_name(session: AsyncSession, code: str) -> str:
    try:
        return (await tenants.get_tenant_by_code(session, code)).name
    except TenantNotFound:  # a county not on the platform: the division table's name
        return division_name(code) or code


async def _own_tenant(session: AsyncSession, principal: Principal) -> Tenant:
    return await tenants.get_tenant_by_code(session, principal.tenant_code or "")


async def score_counterpart(session: AsyncSession, principal: Principal, year: int, counterpart: str) -> AssessmentRead:
    """The live score this county gives `counterpart` for the FP year, from the rows between the two."""
    mine = _county(principal, Action.assessment_read)
    if counterpart == mine:
        raise CounterpartIsSelf()
    period = year_period(year)
    scheme = [item for item in (await _scheme(session, year))[0] if item.kpi.counterpart]
    as_of = utc_now()
    scope = Scope(county_code=counterpart, root=counterpart, as_of=as_of, counterpart=mine)
    codes = [item.kpi.code for item in scheme]
    tally = Tally(await count_kpis(session, scope, _months(period), codes, china_today()))
    repository = KpiRepository(session)
    rows: dict[KpiCode, list[dict[str, Any]]] = {}
    for code in codes:
        source = KPI_SOURCES[code]
        assert isinstance(source, FlowSource)
        statement = repository.flow_rows(code, source, scope, RowPart.all, period.begins_at, period.ends_before)
        rows[code] = [_shared_row(row[0], bool(row[1])) for row in await repository.all_rows(statement)]
    items, total, vetoed = _items(scheme, await effective_targets(session), tally, period, None, rows)
    own = await _own_tenant(session, principal)
    return AssessmentRead(
        kind=AssessmentKind.counterpart,
        year=year,
        period=period_read(period),
        assessor_county_code=mine,
        assessor_county_name=own.name,
        as_of=as_of,
        scores=[
            ScoreRead(
                assessed_code=counterpart,
                assessed_name=await _county_name(session, counterpart),
                total_score=total,
                vetoed=vetoed,
                items=items,
            )
        ],
    )


async def score_townships(session: AsyncSession, principal: Principal, year: int) -> AssessmentRead:
    """The live ranking of the county's townships by its scheme over the FP year."""
    mine = _county(principal, Action.assessment_read)
    period = year_period(year)
    scheme, _ = await _scheme(session, year)
    as_of = utc_now()
    scope = Scope(county_code=mine, root=mine, as_of=as_of, child_length=9)
    tally = Tally(await count_kpis(session, scope, _months(period), [item.kpi.code for item in scheme], china_today()))
    targets = await effective_targets(session)
    scores = []
    for township in [unit for unit in await org.list_subtree(session, mine) if len(unit.code) == 9]:
        items, total, vetoed = _items(scheme, targets, tally, period, township.code)
        scores.append(
            ScoreRead(
                assessed_code=township.code, assessed_name=township.name, total_score=total, vetoed=vetoed, items=items
            )
        )
    scores.sort(key=lambda score: (score.vetoed, score.total_score is None, -(score.total_score or 0.0)))
    for place, score in enumerate(scores, start=1):
        score.rank = place
    own = await _own_tenant(session, principal)
    return AssessmentRead(
        kind=AssessmentKind.townships,
        year=year,
        period=period_read(period),
        assessor_county_code=mine,
        assessor_county_name=own.name,
        as_of=as_of,
        scores=scores,
    )


async def counterparts(session: AsyncSession, principal: Principal, year: int) -> list[tuple[str, str]]:
    """(code, name) of the counties this one exchanged requests or notices with in the FP year."""
    mine = _county(principal, Action.assessment_read)
    period = year_period(year)
    codes = await KpiRepository(session).counterpart_counties(mine, period.begins_at, period.ends_before)
    return [(code, await _county_name(session, code)) for code in codes]


# --- publishing, reading, contesting ------------------------------------------------------------------------


async def _publish(
    session: AsyncSession, principal: Principal, live: AssessmentRead, assessed: str, body: AssessmentPublish
) -> AssessmentRead:
    _county(principal, Action.assessment_manage)
    repository = AssessmentRepository(session)
    previous = await repository.latest_given(live.kind.value, live.year, assessed)
    if previous is not None and not body.correction_reason:
        raise CorrectionReasonRequired()
    assessed_tenant: Tenant | None = None
    if live.kind is AssessmentKind.counterpart:
        try:
            assessed_tenant = await tenants.get_tenant_by_code(session, assessed)
        except TenantNotFound:
            assessed_tenant = None  # not on the platform: the score is kept, nobody there to read it here
    row = Assessment(
        id=uuid.uuid4(),
        tenant_id=repository.tenant_id,
        kind=live.kind.value,
        year=live.year,
        assessor_county_code=live.assessor_county_code,
        assessed_county_code=assessed,
        assessed_tenant_id=assessed_tenant.id if assessed_tenant else None,
        version_number=previous.version_number + 1 if previous else 1,
        figures={
            "period": live.period.model_dump(mode="json"),
            "assessor_county_name": live.assessor_county_name,
            "scores": [score.model_dump(mode="json") for score in live.scores],
        },
        total_score=live.scores[0].total_score if live.kind is AssessmentKind.counterpart and live.scores else None,
        vetoed=bool(live.kind is AssessmentKind.counterpart and live.scores and live.scores[0].vetoed),
        as_of=live.as_of,
        published_at=utc_now(),
        published_by=principal.label[:100],
        correction_reason=body.correction_reason if previous else None,
        supersedes_id=previous.id if previous else None,
    )
    repository.add(row)
    await repository.flush_unique("uq_assessments_version", AssessmentPublishedMeanwhile)
    await audit.record(
        session,
        action="assessment.publish",
        entity_type="assessment",
        entity_id=row.id,
        changes={
            "kind": row.kind,
            "year": row.year,
            "assessed": assessed,
            "version": row.version_number,
            "total_score": row.total_score,
            "vetoed": row.vetoed,
        },
        org_unit_code=live.assessor_county_code,
        reason=row.correction_reason,
    )
    return _stored(row, [])


async def publish_counterpart(
    session: AsyncSession, principal: Principal, year: int, counterpart: str, body: AssessmentPublish
) -> AssessmentRead:
    """Freeze the score given to `counterpart` (with the rows behind each item); a correction needs a reason."""
    live = await score_counterpart(session, principal, year, counterpart)
    return await _publish(session, principal, live, counterpart, body)


async def publish_townships(
    session: AsyncSession, principal: Principal, year: int, body: AssessmentPublish
) -> AssessmentRead:
    """Freeze the townships' ranking; a correction needs a reason."""
    live = await score_townships(session, principal, year)
    return await _publish(session, principal, live, live.assessor_county_code, body)


def _stored(row: Assessment, contests: list[AssessmentContest]) -> AssessmentRead:
    figures = row.figures
    return AssessmentRead(
        id=row.id,
        kind=AssessmentKind(row.kind),
        year=row.year,
        period=PeriodRead.model_validate(figures["period"]),
        assessor_county_code=row.assessor_county_code,
        assessor_county_name=figures["assessor_county_name"],
        as_of=row.as_of,
        version=row.version_number,
        published_at=row.published_at,
        published_by=row.published_by,
        correction_reason=row.correction_reason,
        scores=[ScoreRead.model_validate(score) for score in figures["scores"]],
        contests=[ContestRead.model_validate(contest) for contest in contests],
    )


async def given(session: AsyncSession, principal: Principal, year: int) -> list[AssessmentItem]:
    """Every version this county published in the FP year."""
    _county(principal, Action.assessment_read)
    return [AssessmentItem.model_validate(row) for row in await AssessmentRepository(session).given(year)]


async def received(session: AsyncSession, principal: Principal, year: int) -> list[AssessmentRead]:
    """The newest version of each score other counties published about this one, with its contests."""
    _county(principal, Action.assessment_read)
    latest: dict[str, Assessment] = {}
    for row in await AssessmentRepository(session).received(year):
        latest.setdefault(row.assessor_county_code, row)
    contests = await AssessmentContestRepository(session).for_assessments([row.id for row in latest.values()])
    return [_stored(row, [c for c in contests if c.assessment_id == row.id]) for row in latest.values()]


async def get_assessment(session: AsyncSession, principal: Principal, assessment_id: uuid.UUID) -> AssessmentRead:
    """A published assessment this county gave or got, with its contests."""
    _county(principal, Action.assessment_read)
    row = await AssessmentRepository(session).by_id(assessment_id)
    return _stored(row, await AssessmentContestRepository(session).for_assessments([row.id]))


async def contest(
    session: AsyncSession, principal: Principal, assessment_id: uuid.UUID, body: ContestCreate
) -> ContestRead:
    """The assessed county contests one item of a score it got, with a reason (audited in its own chain)."""
    mine = _county(principal, Action.assessment_contest)
    row = await AssessmentRepository(session).by_id(assessment_id)
    repository = AssessmentContestRepository(session)
    if row.assessed_tenant_id != repository.tenant_id or row.tenant_id == repository.tenant_id:
        raise NotAssessedCounty()
    scored = {item["kpi_code"] for score in row.figures["scores"] for item in score["items"]}
    if body.item.value not in scored:
        raise ItemNotFound()
    contest_row = AssessmentContest(
        id=uuid.uuid4(),
        tenant_id=repository.tenant_id,
        assessor_tenant_id=row.tenant_id,
        assessment_id=row.id,
        item_code=body.item.value,
        reason=body.reason,
        raised_by=principal.label[:100],
        raised_at=utc_now(),
        state=ContestState.open.value,
    )
    repository.add(contest_row)
    await repository.flush()
    await audit.record(
        session,
        action="assessment.contest",
        entity_type="assessment_contest",
        entity_id=contest_row.id,
        changes={"assessment": str(row.id), "assessor": row.assessor_county_code, "item": body.item.value},
        org_unit_code=mine,
        reason=body.reason,
    )
    return ContestRead.model_validate(contest_row)


async def answer_contest(
    session: AsyncSession, principal: Principal, contest_id: uuid.UUID, body: ContestAnswer
) -> ContestRead:
    """The assessor answers a contest: upheld or dismissed, with its response (audited in its own chain). An
    upheld item is then corrected by publishing a new version with the reason."""
    mine = _county(principal, Action.assessment_contest)
    repository = AssessmentContestRepository(session)
    row = await repository.to_answer(contest_id)
    if row.state != ContestState.open.value:
        raise ContestAlreadyAnswered()
    row.state, row.response = body.decision, body.response
    row.responded_by, row.responded_at = principal.label[:100], utc_now()
    await repository.flush()
    await audit.record(
        session,
        action="assessment.contest_answer",
        entity_type="assessment_contest",
        entity_id=row.id,
        changes={"assessment": str(row.assessment_id), "item": row.item_code, "state": ["open", row.state]},
        org_unit_code=mine,
        reason=body.response,
    )
    return ContestRead.model_validate(row)
