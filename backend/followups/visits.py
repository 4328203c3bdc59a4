"""Follow-up visits (随访, spec P11): the open follow-ups in reach, recording a visit, a return home (返乡), and the
follow-up rate (随访服务率).

Rules this module keeps:
- A visit is recorded against its follow-up case (postpartum, pill user, after a procedure, returned migrant, the
  home visit after missed check rounds): service.write on the case's unit (404 outside reach), once per case, not
  in the future. It closes the case (`completed`) through the case workflow.
- After an IUD insertion or a sterilisation the visit says whether the procedure worked (`procedure_effective`,
  「对手术的有效性进行登记」); it is refused without it.
- A return home (返乡) is recorded for an out-migrant of the county (an outflow person in reach, found by her ID
  number): it opens her returned-migrant visit, due `returned_migrant_visit_days` later, once per return date. The
  registry is not changed: she may leave again, and her register row keeps her outflow record.
- 随访服务率 of a unit: the follow-up cases due in the period that have a visit recorded, over all of them.

Functions flush, never commit; every write is audited.
"""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import date, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from backend.audit import service as audit
from backend.authz.principal import Principal
from backend.authz.vocabulary import Action
from backend.cases.repository import CaseRepository
from backend.cases.schemas import CaseActionRequest
from backend.cases.service import request_action
from backend.core.clock import china_today, start_of_day
from backend.core.divisions import LEVEL_NAMES
from backend.core.errors import NotFound
from backend.core.pagination import PageParams
from backend.followups.config import rules_or_defaults
from backend.followups.errors import FollowUpNotFound, VisitAlreadyRecorded, VisitRejected
from backend.followups.opening import FOLLOWUP_KEY, make_due, open_once
from backend.followups.repository import VISIT_CASE_TYPES, VisitFilters, VisitRepository
from backend.followups.rules import FollowUpKind
from backend.followups.schemas import FollowUpItem, FollowUpRate, ReturnCreate, VisitCreate, VisitRead
from backend.models import Case, CaseOutcome, CaseStage, FlowDirection, FollowUpVisit, PersonStatus
from backend.org.repository import OrgUnitRepository
from backend.org.rollup import UnitRollup
from backend.persons.identifiers import resident_id_digest
from backend.persons.repository import PersonRepository
from backend.persons.resident_id import normalise_resident_id
from workflows.cases.types import CaseAction

VISIT_ACTION = "followup.visit"
RETURN_ACTION = "followup.return"


def kind_of(case: Case) -> str:
    """The follow-up kind a case was opened for (cases opened before kinds were recorded are postpartum visits)."""
    kind = case.details.get("followup_kind") if isinstance(case.details, dict) else None
    if kind:
        return str(kind)
    return FollowUpKind.missed_checks_visit.value if case.case_type == "check_home_visit" else "postpartum_visit"


def item_of(case: Case) -> FollowUpItem:
    """The list body of a follow-up case."""
    return FollowUpItem(
        case_id=case.id,
        case_number=case.number,
        kind=kind_of(case),
        title=case.title,
        person_id=case.primary_person_id,
        person_name=case.subject_name,
        org_unit_code=case.org_unit_code,
        due_at=case.due_at,
        closed=case.stage == CaseStage.closed,
    )


async def list_followups(
    session: AsyncSession, principal: Principal, filters: VisitFilters, paging: PageParams
) -> tuple[list[FollowUpItem], int]:
    """A page of the follow-up cases in the caller's reach (open ones by default), soonest due first."""
    repository = VisitRepository(session)
    statement = repository.followup_cases(principal.scopes_for(Action.service_read), filters)
    cases, total = await repository.page(statement, offset=paging.offset, limit=paging.size)
    return [item_of(case) for case in cases], total


async def followup_case(session: AsyncSession, principal: Principal, case_id: uuid.UUID, action: Action) -> Case:
    """A follow-up case the caller may `action` on (404 otherwise, and for a case of another type)."""
    case = await CaseRepository(session).get_in_reach(
        principal, action, case_id, visible_with=Action.service_read, not_found=FollowUpNotFound()
    )
    if case.case_type not in VISIT_CASE_TYPES:
        raise FollowUpNotFound()
    return case


async def visit_of(session: AsyncSession, case: Case) -> VisitRead | None:
    """The visit recorded for the case, if any."""
    visit = await VisitRepository(session).of_case(case.id)
    return VisitRead.model_validate(visit) if visit is not None else None


async def get_visit(session: AsyncSession, principal: Principal, case_id: uuid.UUID) -> VisitRead | None:
    """The visit of a follow-up case in reach (404 otherwise); None while none is recorded."""
    return await visit_of(session, await followup_case(session, principal, case_id, Action.service_read))


async def record_visit(session: AsyncSession, principal: Principal, case_id: uuid.UUID, body: VisitCreate) -> VisitRead:
    """Record what the visit found and close its case."""
    case = await followup_case(session, principal, case_id, Action.service_write)
    repository = VisitRepository(session)
    if await repository.of_case(case.id) is not None:
        raise VisitAlreadyRecorded()
    if case.stage == CaseStage.closed:
        raise VisitRejected("form", "随访案件已办结，不能再登记", "the follow-up case is closed")
    if case.primary_person_id is None:
        raise VisitRejected("form", "随访案件没有对象", "the follow-up case has no subject")
    if body.visited_on > china_today():
        raise VisitRejected("visited_on", "随访日期不能晚于今天", "the visit date is in the future")
    kind = kind_of(case)
    if kind == FollowUpKind.post_procedure_visit.value and body.procedure_effective is None:
        raise VisitRejected(
            "procedure_effective",
            "术后随访须登记手术是否有效",
            "say whether the procedure worked (post-procedure visit)",
        )
    visit = FollowUpVisit(
        id=uuid.uuid4(),
        tenant_id=case.tenant_id,
        case_id=case.id,
        person_id=case.primary_person_id,
        kind=kind,
        org_unit_code=case.org_unit_code,
        **body.model_dump(),
        recorded_by_id=principal.id,
        recorded_by_label=principal.label[:100],
    )
    repository.add(visit)
    await repository.flush()
    await audit.record(
        session,
        action=VISIT_ACTION,
        entity_type="case",
        entity_id=case.id,
        org_unit_code=case.org_unit_code,
        correlation_id=case.number,
        changes={"visit": [None, body.model_dump(mode="json", exclude={"side_effects", "advice"}) | {"kind": kind}]},
    )
    await request_action(
        session,
        principal,
        case,
        CaseActionRequest(
            version=case.version, action=CaseAction.close, outcome=CaseOutcome.completed, reason="随访已记录 / visited"
        ),
    )
    return VisitRead.model_validate(visit)


async def record_return(session: AsyncSession, principal: Principal, body: ReturnCreate) -> FollowUpItem:
    """An out-migrant came home: open her returned-migrant visit (once per return date)."""
    number = normalise_resident_id(body.resident_id)
    person = await PersonRepository(session).by_resident_id_hash(resident_id_digest(number)) if number else None
    if person is None or not principal.can(Action.service_write, person.org_unit_code):
        raise VisitRejected(
            "resident_id", "未找到该身份证号码的人员，或不在您的范围内", "no person with this ID number in your reach"
        )
    if person.status is not PersonStatus.active or person.flow_direction is not FlowDirection.outflow:
        raise VisitRejected(
            "resident_id", "该人员不是本县在册的流出人员", "not an out-migrant registered in this county"
        )
    if body.returned_on > china_today():
        raise VisitRejected("returned_on", "返乡日期不能晚于今天", "the return date is in the future")
    rules = await rules_or_defaults(session)
    due = make_due(
        FollowUpKind.returned_migrant_visit,
        person.id,
        body.returned_on.isoformat(),
        (person.id, person.name, person.org_unit_code),
        body.returned_on + timedelta(days=rules.returned_migrant_visit_days),
        {"visit": "returned_migrant", "returned_on": body.returned_on.isoformat()},
        title_note=f"（{body.returned_on.isoformat()}返乡）",
    )
    case = await open_once(session, principal, due)
    if case is None:
        raise VisitRejected("returned_on", "这次返乡已登记", "this return is already recorded")
    await audit.record_about(
        session,
        "person",
        person,
        RETURN_ACTION,
        {"returned_on": [None, body.returned_on], FOLLOWUP_KEY: [None, due.key]},
    )
    return item_of(case)


async def followup_rates(
    session: AsyncSession,
    principal: Principal,
    due_from: date | None,
    due_to: date | None,
    org_unit: str | None = None,
) -> list[FollowUpRate]:
    """随访服务率 of each village in reach with follow-ups due in the period (inclusive days), and of each township
    and the county the caller reads whole, in code order. `org_unit` narrows to a subtree (404 out of reach)."""
    units = await OrgUnitRepository(session).all_by_code()
    if org_unit is not None and (org_unit not in units or not principal.can(Action.service_read, org_unit)):
        raise NotFound()
    counts = await VisitRepository(session).counts_by_unit(
        principal.scopes_for(Action.service_read),
        start_of_day(due_from) if due_from else None,
        start_of_day(due_to + timedelta(days=1)) if due_to else None,
        org_unit,
    )
    due: Counter[str] = Counter()
    visited: Counter[str] = Counter()
    rollup = UnitRollup(principal, Action.service_read, org_unit)
    for unit, seen, count in counts:
        for code in rollup.units_of(unit):
            due[code] += count
            visited[code] += count if seen else 0
    return [
        FollowUpRate(
            org_unit_code=code,
            org_unit_name=units[code].name if code in units else code,
            level=LEVEL_NAMES[len(code)],
            due=due[code],
            visited=visited[code],
            rate=round(visited[code] / due[code], 4) if due[code] else None,
        )
        for code in sorted(due)
    ]
