"""Entrustment (县内委托 / 移交, seeds-spec P21): rules of handing a case to another township of the same county.

- Sending: someone who works the case's township (case.write over it; a village coordinator does not) names a
  receiving township of the same county, other than the case's own, with a reason; optionally the responsibility
  for the case's person in the registry goes too (she must be able to change that person's record). One hand-over
  at a time per case, never for a closed case. The sending township keeps the case, and works it, meanwhile.
- Deciding: only a worker of the receiving township (case.write over it; anyone else gets 404) accepts or returns.
  Accepting moves the case to the receiving township, clears its assignee (the receiver's queue assigns it again)
  and tells the case workflow to re-plan (its alerts now go to the receiver); returning leaves the case as it was.
- The clock: the seeds state no pause or restart of the stage deadline for a hand-over (P21 [001#11, 001#12]), so
  the stage's due date keeps running through it and is the same after acceptance. The sources do not vary, so there
  is no county setting for it.
- Audit: both sides. The case's audit trail records the request, the acceptance or return (on the case's unit at
  that moment), and the entrustment's own trail is filed under the receiving township.
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from backend.audit import service as audit
from backend.authz.principal import Principal
from backend.authz.vocabulary import Action
from backend.cases import service as cases
from backend.cases.repository import CaseRepository
from backend.core import outbox
from backend.core.clock import utc_now
from backend.core.divisions import county_of, township_of
from backend.entrustments.errors import EntrustmentClosed, InvalidEntrustment
from backend.entrustments.repository import EntrustmentRepository
from backend.entrustments.schemas import EntrustmentCreate, EntrustmentDecision, EntrustmentRead, EntrustmentReturn
from backend.models import Case, CaseEntrustment, CaseStage, EntrustmentState, OrgUnit
from backend.notifications import events as notification_events
from backend.notifications.service import dealt_with, notify
from backend.org.repository import OrgUnitRepository
from backend.persons import records as person_records
from backend.persons.repository import PersonRepository
from workflows.cases.types import case_workflow_id_for

TOWNSHIP_CODE_LENGTH = 9
NOT_A_TOWNSHIP = "须为本县的其他乡镇（街道）/ must be another township of this county"
SAME_TOWNSHIP = "不能委托给本乡镇（街道）/ a township cannot entrust a case to itself"
NOT_THE_TOWNSHIP = "只有案件所在乡镇（街道）可以委托 / only the case's township can entrust it"
NO_PERSON = "本案没有当事人，无法移交人员 / the case has no person to hand over"
PERSON_NOT_WRITABLE = "您无权移交该人员的管理责任 / you may not hand over this person's record"
CASE_CLOSED = "案件已办结，不能委托 / the case is closed and cannot be entrusted"
ALREADY_PENDING = "本案已有待接收的委托 / the case already has a hand-over waiting"
DECIDED = "该委托已处理 / the hand-over was already decided"
CASE_STALE = "案件已被他人修改，请刷新后重试 / someone else changed the case; reload and retry"
STALE = "委托已被他人处理，请刷新后重试 / someone else changed the hand-over; reload and retry"
CASE_MOVED = "案件已不在委托时的单位，不能接收 / the case has moved since it was entrusted"


def entrustment_read(row: CaseEntrustment) -> EntrustmentRead:
    """The API's view of a hand-over."""
    return EntrustmentRead.model_validate(row, from_attributes=True)


async def _record(session: AsyncSession, row: CaseEntrustment, action: str, *, reason: str | None = None) -> None:
    """The entrustment's own audit event, filed under the receiving township (the receiver's side)."""
    changes = {"state": [None, row.state], "case": [None, row.case_number], "from": [None, row.from_unit_code]}
    await audit.record(
        session,
        action=action,
        entity_type=EntrustmentRepository.entity_type,
        entity_id=row.id,
        changes=changes,
        org_unit_code=row.to_unit_code,
        reason=reason,
        correlation_id=row.case_number,
    )


async def _receiver(session: AsyncSession, case: Case, code: str) -> str:
    unit = await OrgUnitRepository(session).get_by_code(code)
    if unit is None or not unit.active or len(unit.code) != TOWNSHIP_CODE_LENGTH:
        raise InvalidEntrustment("to_unit_code", NOT_A_TOWNSHIP)
    if county_of(unit.code) != county_of(case.org_unit_code):
        raise InvalidEntrustment("to_unit_code", NOT_A_TOWNSHIP)
    if unit.code == township_of(case.org_unit_code):
        raise InvalidEntrustment("to_unit_code", SAME_TOWNSHIP)
    return unit.code


async def entrust_case(
    session: AsyncSession, principal: Principal, case: Case, body: EntrustmentCreate
) -> CaseEntrustment:
    """委托: hand `case` (in the caller's case.write reach) to another township of the same county, pending until the
    receiver decides; the receiving township's officers and supervisors are told; audited on both sides."""
    if body.version != case.version:
        raise EntrustmentClosed(CASE_STALE)
    if case.stage == CaseStage.closed:
        raise EntrustmentClosed(CASE_CLOSED)
    if not may_entrust(principal, case):
        raise InvalidEntrustment("to_unit_code", NOT_THE_TOWNSHIP)
    to_unit_code = await _receiver(session, case, body.to_unit_code)
    person_id = None
    if body.include_person:
        person = await PersonRepository(session).get(case.primary_person_id) if case.primary_person_id else None
        if person is None:
            raise InvalidEntrustment("include_person", NO_PERSON)
        if not principal.can(Action.person_write, person.org_unit_code):
            raise InvalidEntrustment("include_person", PERSON_NOT_WRITABLE)
        person_id = person.id
    repository = EntrustmentRepository(session)
    if await repository.pending_for_case(case.id) is not None:
        raise EntrustmentClosed(ALREADY_PENDING)
    row = CaseEntrustment(
        id=uuid.uuid4(),
        tenant_id=case.tenant_id,
        case_id=case.id,
        case_number=case.number,
        from_unit_code=case.org_unit_code,
        to_unit_code=to_unit_code,
        include_person=body.include_person,
        person_id=person_id,
        reason=body.reason,
        state=EntrustmentState.pending.value,
        requested_by=principal.subject,
    )
    repository.add(row)
    await repository.flush_unique("uq_case_entrustments_pending", lambda: EntrustmentClosed(ALREADY_PENDING))
    changes = {"entrusted_to": [None, to_unit_code], "include_person": [None, body.include_person]}
    await cases.record(session, case, "case.entrust_requested", changes, reason=body.reason)
    await _record(session, row, "entrustment.request", reason=body.reason)
    await notify(session, notification_events.entrustment_received(row))
    return row


async def get_entrustment(session: AsyncSession, principal: Principal, entrustment_id: uuid.UUID) -> CaseEntrustment:
    """A hand-over the caller may decide (case.write over the receiving township); 404 otherwise."""
    return await EntrustmentRepository(session).get_in_reach(principal, Action.case_write, entrustment_id)


async def _pending(
    session: AsyncSession, principal: Principal, entrustment_id: uuid.UUID, version: int
) -> tuple[CaseEntrustment, Case]:
    row = await EntrustmentRepository(session).get_in_reach(
        principal, Action.case_write, entrustment_id, for_update=True
    )
    if row.state != EntrustmentState.pending.value:
        raise EntrustmentClosed(DECIDED)
    if row.version != version:
        raise EntrustmentClosed(STALE)
    case = await CaseRepository(session).get(row.case_id, for_update=True)
    assert case is not None  # the foreign key cascades
    return row, case


def _decide(principal: Principal, row: CaseEntrustment, state: EntrustmentState, reason: str | None) -> None:
    row.state = state.value
    row.decided_by = principal.subject
    row.decided_at = utc_now()
    row.decision_reason = reason


async def accept_entrustment(
    session: AsyncSession, principal: Principal, entrustment_id: uuid.UUID, body: EntrustmentDecision
) -> CaseEntrustment:
    """接收: the case moves to the receiving township with no assignee, its deadline unchanged; the case workflow
    re-plans its alerts for the new unit (through the outbox); the person's record moves too when it was handed
    over. Audited on the case, the person and the entrustment."""
    row, case = await _pending(session, principal, entrustment_id, body.version)
    if case.stage == CaseStage.closed:
        raise EntrustmentClosed(CASE_CLOSED)
    if case.org_unit_code != row.from_unit_code:
        raise EntrustmentClosed(CASE_MOVED)
    before = cases.snapshot(case)
    case.org_unit_code = row.to_unit_code
    case.assignee_id = None
    await session.flush()
    await cases.record(session, case, "case.entrusted", audit.diff(before, cases.snapshot(case)), reason=row.reason)
    if row.include_person and row.person_id is not None:
        person = await PersonRepository(session).get(row.person_id)
        if person is not None:
            await person_records.update_from_clean(
                session,
                person,
                {"org_unit_code": row.to_unit_code},
                action="person.entrusted",
                reason=row.reason,
                correlation_id=case.number,
            )
    _decide(principal, row, EntrustmentState.accepted, None)
    await session.flush()
    await _record(session, row, "entrustment.accept")
    await outbox.enqueue(session, outbox.ReplanCase(workflow_id=case_workflow_id_for(case), case_id=case.id))
    await dealt_with(session, notification_events.entrustment_key(row))
    return row


async def return_entrustment(
    session: AsyncSession, principal: Principal, entrustment_id: uuid.UUID, body: EntrustmentReturn
) -> CaseEntrustment:
    """退回: the receiver gives the hand-over back with a reason; the case stays as it is. Audited on both sides."""
    row, case = await _pending(session, principal, entrustment_id, body.version)
    _decide(principal, row, EntrustmentState.returned, body.reason)
    await session.flush()
    await cases.record(
        session, case, "case.entrust_returned", {"returned_by": [None, row.to_unit_code]}, reason=body.reason
    )
    await _record(session, row, "entrustment.return", reason=body.reason)
    await dealt_with(session, notification_events.entrustment_key(row))
    return row


async def incoming(
    session: AsyncSession, principal: Principal, *, pending_only: bool, offset: int, limit: int
) -> tuple[list[CaseEntrustment], int]:
    """The hand-overs to the townships the caller works (case.write reach), pending first."""
    roots = principal.scopes_for(Action.case_write)
    return await EntrustmentRepository(session).incoming(roots, pending_only=pending_only, offset=offset, limit=limit)


async def case_entrustments(session: AsyncSession, case: Case) -> list[CaseEntrustment]:
    """Every hand-over of a case the caller may read (the case page shows them), newest first."""
    return await EntrustmentRepository(session).for_case(case.id)


async def receiving_townships(session: AsyncSession, case: Case) -> list[OrgUnit]:
    """The townships `case` may be entrusted to: the county's active townships but its own."""
    own = township_of(case.org_unit_code)
    units = await OrgUnitRepository(session).list_subtree(county_of(case.org_unit_code))
    return [unit for unit in units if unit.active and len(unit.code) == TOWNSHIP_CODE_LENGTH and unit.code != own]


def may_entrust(principal: Principal, case: Case) -> bool:
    """Whether the caller speaks for the case's township (the page shows the form only then)."""
    township = township_of(case.org_unit_code)
    return case.stage != CaseStage.closed and township is not None and principal.can(Action.case_write, township)
