"""Cases: opening, editing (optimistic lock with what changed), assignment and queues, links, stage moves.

Stage moves here are the direct form of the human actions; the case workflow (Temporal) drives them and owns
the timers once it exists. Due dates come from the case type's deadline rule through the working-day calendar.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from backend.audit import service as audit
from backend.audit.repository import AuditRepository
from backend.authz.principal import Principal
from backend.authz.vocabulary import Action
from backend.calendar.service import load_calendar
from backend.calendar.workdays import WorkingDayCalendar
from backend.case_types.definitions import CaseTypeDefinition
from backend.case_types.service import effective_case_type, effective_case_type_of
from backend.cases import signing
from backend.cases.errors import CaseChanged, IllegalTransition, InvalidCase, SubjectsRefused
from backend.cases.gates import check_statutory_gates
from backend.cases.plans import build_plan
from backend.cases.repository import CaseRepository, with_defaults
from backend.cases.schemas import (
    ArrivalChannel,
    AssignRequest,
    CaseActionRequest,
    CaseCreate,
    CaseLinkCreate,
    CaseSubjectIn,
    CaseUpdate,
)
from backend.core import outbox
from backend.core.clock import china_day, end_of_day, utc_now
from backend.core.divisions import county_of
from backend.core.errors import FieldError
from backend.identity.repository import IdentityRepository
from backend.identity.service import principal_for_user
from backend.models import Case, CaseLink, CaseStage, CaseStatus, CaseSubject, Person, PersonStatus
from backend.notifications import events as notification_events
from backend.notifications.service import notify
from backend.persons.identifiers import resident_id_digest
from backend.persons.names import name_search_keys
from backend.persons.repository import PersonRepository
from backend.persons.resident_id import normalise_resident_id
from workflows.cases.types import (
    ActorRef,
    CaseAction,
    CaseActionInput,
    SignoffInput,
    case_workflow_id_for,
)

TRACKED_FIELDS = (
    "title",
    "priority",
    "details",
    "assignee_id",
    "stage",
    "status",
    "outcome",
    "outcome_reason",
    "due_at",
    "org_unit_code",
)


async def _case_type(session: AsyncSession, code: str) -> CaseTypeDefinition:
    """The county's effective definition (defaults merged with its override)."""
    return await effective_case_type(session, code)


def snapshot(case: Case) -> dict[str, Any]:
    """The audited fields of a case, with its version."""
    return {name: getattr(case, name) for name in TRACKED_FIELDS} | {"version": case.version}


async def record(
    session: AsyncSession, case: Case, action: str, changes: dict[str, Any], *, reason: str | None = None
) -> None:
    """Append an event of the case to the audit log: on the case's unit, correlated by the case number."""
    where: dict[str, Any] = {"entity_type": CaseRepository.entity_type, "entity_id": case.id}
    where |= {"org_unit_code": case.org_unit_code, "correlation_id": case.number}
    await audit.record(session, action=action, changes=changes, reason=reason, **where)


async def _record(
    session: AsyncSession, case: Case, action: str, before: dict[str, Any] | None, *, reason: str | None = None
) -> None:
    await record(session, case, action, audit.diff(before, snapshot(case)), reason=reason)


async def compute_due_at(
    session: AsyncSession,
    definition: CaseTypeDefinition,
    stage: CaseStage,
    start: datetime,
    signed: Collection[str] = (),
) -> tuple[datetime | None, bool]:
    """End of the due day (China time) for `stage`'s running clock started at `start` (the start day is not
    counted): the pending signature step's deadline when the stage has one (`signed`: the steps done), else the
    stage's own rule."""
    if definition.rule_for(stage, signed) is None:
        return None, False
    return due_on(await load_calendar(session), definition, stage, start, signed)


def due_on(
    calendar: WorkingDayCalendar,
    definition: CaseTypeDefinition,
    stage: CaseStage,
    start: datetime,
    signed: Collection[str] = (),
) -> tuple[datetime | None, bool]:
    """`compute_due_at` on a calendar already loaded."""
    rule = definition.rule_for(stage, signed)
    if rule is None:
        return None, False
    start_day = china_day(start)
    if rule.working_days is not None:
        due = calendar.add_working_days(start_day, rule.working_days)
        day, provisional = due.date, due.provisional
    else:
        day, provisional = start_day + timedelta(days=rule.calendar_days or 0), False
    return end_of_day(day), provisional


SUBJECT_NOT_IN_REACH = "人员不存在或无权查看 / no such person in your reach"
RESIDENT_ID_NOT_IN_REACH = "未找到该身份证号码的人员，或不在您的范围内 / no person with this ID number in your reach"
SPOUSE_IS_APPLICANT = "配偶不能是申请人本人 / the spouse cannot be the applicant"
SUBJECT_REPEATED = "同一人员不能重复列为当事人 / the same person cannot be a subject twice"


async def _subject(repository: PersonRepository, subject: CaseSubjectIn) -> Person | None:
    if subject.person_id is not None:
        return await repository.get(subject.person_id)
    assert subject.resident_id is not None  # the schema requires one of the two
    return await repository.by_resident_id_hash(resident_id_digest(normalise_resident_id(subject.resident_id)))


async def _readable_persons(session: AsyncSession, principal: Principal, subjects: list[CaseSubjectIn]) -> list[Person]:
    """The registered (not merged) persons the subjects name, by id or by ID number, each one the caller may read;
    every subject that names nobody in reach (or a person already named) is refused at its field."""
    repository = PersonRepository(session)
    persons: list[Person] = []
    problems: list[FieldError] = []
    for index, subject in enumerate(subjects):
        person = await _subject(repository, subject)
        by_id = subject.person_id is not None
        loc = ("body", f"subjects.{index}.{'person_id' if by_id else 'resident_id'}")
        if (
            person is None
            or person.status == PersonStatus.merged
            or not principal.can(Action.person_read, person.org_unit_code)
        ):
            problems.append(FieldError(loc, SUBJECT_NOT_IN_REACH if by_id else RESIDENT_ID_NOT_IN_REACH))
        elif any(named.id == person.id for named in persons):
            problems.append(FieldError(loc, SPOUSE_IS_APPLICANT if subject.part == "spouse" else SUBJECT_REPEATED))
        else:
            persons.append(person)
    if problems:
        raise SubjectsRefused(problems)
    return persons


EVIDENCED_CHANNELS = {
    ArrivalChannel.registered_mail: "签收日期",
    ArrivalChannel.fax: "传真打印时间",
    ArrivalChannel.phone: "通话记录时间",
}


def _arrival_time(case_create: CaseCreate) -> datetime:
    """When the clock starts: now for requests taken in person or on the platform; for letters, faxes and
    calls the time the evidence shows, entered by the officer (never the time it was typed in)."""
    arrival = case_create.arrival
    if arrival.channel in EVIDENCED_CHANNELS:
        label = EVIDENCED_CHANNELS[arrival.channel]
        if arrival.at is None:
            raise InvalidCase("arrival.at", f"须填写{label} / the time shown by the evidence is required")
        if not arrival.evidence and arrival.evidence_document_id is None:
            raise InvalidCase("arrival.evidence", "须登记凭证 / the evidence is required")
        if case_create.received_at is not None and case_create.received_at != arrival.at:
            raise InvalidCase("received_at", f"受理时间以{label}为准 / the arrival time comes from the evidence")
        moment = arrival.at
    else:
        moment = case_create.received_at or utc_now()
    if moment.tzinfo is None:
        raise InvalidCase("received_at", "需要带时区的时间 / a time with a time zone is required")
    if moment > utc_now() + timedelta(minutes=5):
        raise InvalidCase("received_at", "受理时间不能在将来 / the arrival time cannot be in the future")
    return moment.astimezone(UTC)


async def open_case(
    session: AsyncSession, principal: Principal, case_create: CaseCreate, *, through: str | None = None
) -> Case:
    """Open a case in a unit the caller may work in, numbered and with its first stage's due date.

    A type whose cases carry a record of their own domain (a reward application, a complaint ...) names that
    domain in `extra["opened_through"]`: its cases are opened only by it (`through`), never bare."""
    repository = CaseRepository(session)
    # The type's override and the unit in one statement (docs/adr/0012-lean-case-opening.md, "Second cut").
    config, unit_active = await repository.type_and_unit(case_create.case_type, case_create.org_unit_code)
    definition = effective_case_type_of(case_create.case_type, config)
    if not definition.enabled:
        raise InvalidCase("case_type", "该案件类型已停用 / this case type is disabled")
    opened_through = definition.extra.get("opened_through")
    if opened_through != through:
        raise InvalidCase(
            "case_type",
            f"此类案件须通过 /api/v1/{opened_through} 办理 / open this type through /api/v1/{opened_through}",
        )
    unit_code = case_create.org_unit_code
    if not unit_active or not principal.can(Action.case_write, unit_code):
        raise InvalidCase("org_unit_code", "组织机构不存在或超出您的范围 / unknown unit or outside your reach")
    persons = await _readable_persons(session, principal, case_create.subjects)
    received_at = _arrival_time(case_create)
    stage = definition.stages[0]
    calendar = await load_calendar(session)
    due_at, provisional = due_on(calendar, definition, stage, received_at)
    county_code = principal.tenant_code or county_of(unit_code)
    primary = persons[0] if persons else None
    keys = name_search_keys(primary.name) if primary else None
    year = china_day(received_at).year
    # The number and the chain head in one statement, the case with its subjects, audit event and outbox message
    # in another (docs/adr/0012-lean-case-opening.md, "Second cut").
    number, last_seq, last_hash = await repository.claim_number(year)
    case = with_defaults(
        Case(
            id=uuid.uuid4(),
            tenant_id=repository.tenant_id,
            number=f"{county_code}-{year}-{number:06d}",
            case_type=definition.code,
            title=case_create.title or definition.label.split(" / ")[0] + (f"：{primary.name}" if primary else ""),
            org_unit_code=unit_code,
            stage=stage,
            status=CaseStatus.open,
            priority=case_create.priority,
            primary_person_id=primary.id if primary else None,
            subject_name=primary.name if primary else "",
            subject_pinyin=keys.pinyin if keys else "",
            received_at=received_at,
            # The first stage's clock starts on arrival: stored now, so the workflow's first plan changes nothing
            # on the row and an officer acting at once is not told "someone else changed this case".
            stage_started_at=received_at,
            due_at=due_at,
            due_provisional=provisional,
            overdue=False,
            details={**case_create.details, "arrival": case_create.arrival.model_dump(mode="json", exclude_none=True)},
            created_by=principal.subject,
            version=1,
        )
    )
    subjects = [
        CaseSubject(id=uuid.uuid4(), tenant_id=case.tenant_id, case_id=case.id, person_id=person.id, part=subject.part)
        for subject, person in zip(case_create.subjects, persons, strict=True)
    ]
    event = audit.chained_event(
        case.tenant_id,
        last_seq,
        last_hash,
        action="case.open",
        entity_type=CaseRepository.entity_type,
        entity_id=case.id,
        changes=audit.diff(None, snapshot(case)),
        org_unit_code=case.org_unit_code,
        correlation_id=case.number,
    )
    # The case workflow drives stages and owns the timers; it is started after commit, through the outbox, with
    # its first plan (what its first activity would otherwise read back from this row).
    message = outbox.message_for(
        case.tenant_id,
        outbox.StartCase(
            tenant_id=case.tenant_id,
            tenant_code=county_code,
            case_id=case.id,
            case_number=case.number,
            plan=build_plan(case, definition, calendar).model_dump(mode="json"),
        ),
    )
    await repository.insert_opened(case, subjects, event, message)
    audit.head_moved(session, event)
    return case


async def get_case(session: AsyncSession, principal: Principal, case_id: uuid.UUID, action: Action) -> Case:
    """The case if the caller may perform `action` on its unit; 404 otherwise (existence is information)."""
    return await CaseRepository(session).get_in_reach(principal, action, case_id)


async def _changes_since(session: AsyncSession, case: Case, version: int) -> tuple[dict[str, Any], list[str]]:
    """Field changes (and who made them) recorded after `version`, from the case's audit events."""
    changed: dict[str, Any] = {}
    actors: list[str] = []
    for event in await AuditRepository(session).list_for_entity("case", str(case.id)):
        versions = event.changes.get("version")
        if not versions or versions[1] is None or versions[1] <= version:
            continue
        actors.append(event.actor_label)
        for name, (old, new) in event.changes.items():
            if name != "version":
                changed[name] = [changed.get(name, [old])[0], new]
    return changed, list(dict.fromkeys(actors))


async def _check_version(session: AsyncSession, case: Case, version: int | None) -> None:
    if version is not None and version != case.version:
        changed, actors = await _changes_since(session, case, version)
        raise CaseChanged(current=snapshot(case), changed=changed, changed_by=actors)


async def update_case(session: AsyncSession, case: Case, update: CaseUpdate) -> Case:
    """Edit the title, priority or details of a case (optimistic lock on `version`), audited."""
    await _check_version(session, case, update.version)
    before = snapshot(case)
    for name, value in update.model_dump(exclude_unset=True, exclude={"version"}).items():
        setattr(case, name, value)
    await session.flush()
    await _record(session, case, "case.update", before)
    return case


async def _can_work_on(session: AsyncSession, assignee_id: uuid.UUID, unit_code: str) -> bool:
    """Whether a user of this county could work the case: active, and holds case.write over its unit."""
    user = await IdentityRepository(session).user_by_id(assignee_id)
    if user is None or not user.active:
        return False
    principal = await principal_for_user(session, user, None, "")
    principal.tenant_code = county_of(unit_code)
    return principal.can(Action.case_write, unit_code)


async def assign_case(session: AsyncSession, case: Case, request: AssignRequest) -> Case:
    """Assign the case to a user who may work on it, or (no assignee) return it to the unit's queue; audited."""
    await _check_version(session, case, request.version)
    if request.assignee_id is not None and not await _can_work_on(session, request.assignee_id, case.org_unit_code):
        raise InvalidCase("assignee_id", "该用户无权办理此案件 / this user cannot work on the case")
    before = snapshot(case)
    case.assignee_id = request.assignee_id
    await session.flush()
    await _record(session, case, "case.assign", before)
    if case.assignee_id is not None:
        await notify(session, notification_events.case_assigned(case))
    return case


async def claim_case(session: AsyncSession, principal: Principal, case: Case) -> Case:
    """The caller takes an unassigned case (a user, not a client); audited."""
    if case.assignee_id is not None and str(case.assignee_id) != principal.id:
        raise IllegalTransition("案件已分配给他人 / the case is assigned to someone else")
    if principal.kind != "user":
        raise IllegalTransition("只有用户可以认领 / only users claim cases")
    before = snapshot(case)
    case.assignee_id = uuid.UUID(principal.id)
    await session.flush()
    await _record(session, case, "case.claim", before)
    return case


async def bulk_reassign(
    session: AsyncSession, principal: Principal, case_ids: list[uuid.UUID], assignee_id: uuid.UUID
) -> int:
    """All or nothing: every case must be in the caller's assign scope and workable by the assignee."""
    cases = {case.id: case for case in await CaseRepository(session).get_many(case_ids)}
    for index, case_id in enumerate(case_ids):
        case = cases.get(case_id)
        if case is None or not principal.can(Action.case_assign, case.org_unit_code):
            raise InvalidCase(f"case_ids.{index}", "案件不存在或超出您的范围 / no such case in your reach")
        if not await _can_work_on(session, assignee_id, case.org_unit_code):
            raise InvalidCase(
                "assignee_id", f"该用户无权办理案件 {case.number} / the user cannot work on {case.number}"
            )
    for case in cases.values():
        before = snapshot(case)
        case.assignee_id = assignee_id
        await session.flush()
        await _record(session, case, "case.assign", before, reason="bulk reassign")
        await notify(session, notification_events.case_assigned(case))
    return len(cases)


async def link_cases(session: AsyncSession, principal: Principal, case: Case, link: CaseLinkCreate) -> CaseLink:
    """Link a related case the caller may read (once per pair), audited."""
    repository = CaseRepository(session)
    other = await repository.get(link.linked_case_id)
    if other is None or other.id == case.id or not principal.can(Action.case_read, other.org_unit_code):
        raise InvalidCase("linked_case_id", "案件不存在或无权查看 / no such case in your reach")
    if any(existing.linked_case_id == other.id for existing in await repository.links(case.id)):
        raise InvalidCase("linked_case_id", "已关联 / already linked")
    row = CaseLink(id=uuid.uuid4(), tenant_id=case.tenant_id, case_id=case.id, linked_case_id=other.id, kind=link.kind)
    repository.add(row)
    await repository.flush()
    await record(session, case, "case.link", {"linked": [None, other.number], "kind": [None, link.kind]})
    return row


async def request_action(
    session: AsyncSession, principal: Principal, case: Case, request: CaseActionRequest
) -> uuid.UUID:
    """Check a human action against the case as stored, then hand it to the case workflow via the outbox.

    The workflow validates it again against its own state (the authority on what happens next); this check
    gives the user an immediate, clear error for the common mistakes.
    """
    await _check_version(session, case, request.version)
    if case.stage == CaseStage.closed:
        raise IllegalTransition("案件已办结 / the case is closed")
    if request.action in (CaseAction.refuse, CaseAction.request_materials) and not request.reason:
        raise InvalidCase("reason", "须书面说明理由 / a written reason is required")
    if request.action == CaseAction.close and request.outcome is None:
        raise InvalidCase("outcome", "办结须填写结果 / closing needs an outcome")
    if request.action == CaseAction.materials_received and case.suspended_at is None:
        raise IllegalTransition("案件未处于补正中止状态 / the case is not waiting for materials")
    if request.action == CaseAction.request_materials and case.suspended_at is not None:
        raise IllegalTransition("已在等待补正材料 / already waiting for materials")
    await check_statutory_gates(session, case, request)
    await signing.check_action(session, principal, case, await _case_type(session, case.case_type), request)
    if request.action == CaseAction.extend:
        if not principal.can(Action.case_assign, case.org_unit_code):
            raise IllegalTransition("延期须由负责人批准 / an extension needs a supervisor's approval")
        if case.extension_used:
            raise IllegalTransition("每个案件只能延期一次 / a case may be extended once")
        if case.overdue:
            raise IllegalTransition("已超期，不能再延期 / the deadline has passed; no extension")
    request_id = uuid.uuid4()
    action = CaseActionInput(
        request_id=str(request_id),
        action=request.action,
        actor=ActorRef(kind=principal.kind, id=principal.id, label=principal.label),
        reason=request.reason,
        outcome=request.outcome.value if request.outcome else None,
        extension_working_days=request.extension_working_days,
        signoff=SignoffInput(step=request.step, note=request.note) if request.action == CaseAction.sign else None,
        # When the officer acted: the workflow counts from this, not from when the outbox delivered it.
        requested_at=utc_now(),
    )
    await outbox.enqueue(
        session,
        outbox.ActOnCase(
            workflow_id=case_workflow_id_for(case),
            case_id=case.id,
            action=action.model_dump(mode="json"),
        ),
        message_id=request_id,
    )
    changes = {"action": [None, request.action.value], "request_id": [None, str(request_id)]}
    await record(session, case, "case.action_requested", changes, reason=request.reason)
    return request_id


async def recompute_due_dates(
    session: AsyncSession, affected_from: datetime, *, reason: str = "official calendar imported"
) -> int:
    """After the calendar changed (a State Council notice imported, a county holiday added or withdrawn):
    recount the open deadlines of this county that run through the changed dates, clear the provisional
    mark, and tell each case's workflow to re-plan its timers.

    Suspended cases keep their remaining budget; they are recounted when the clock resumes.
    """
    changed = 0
    for case in await CaseRepository(session).running_due_from(affected_from):
        definition = await _case_type(session, case.case_type)
        if case.extension_used:
            continue  # an approved extension was counted on the old schedule: the workflow re-plans it
        due_at, provisional = await compute_due_at(
            session,
            definition,
            case.stage,
            case.stage_started_at or case.received_at,
            await signing.signed_steps(session, case),
        )
        if (due_at, provisional) == (case.due_at, case.due_provisional):
            continue
        before = snapshot(case)
        case.due_at, case.due_provisional = due_at, provisional
        await session.flush()
        await _record(session, case, "case.deadline_recomputed", before, reason=reason)
        await outbox.enqueue(session, outbox.ReplanCase(workflow_id=case_workflow_id_for(case), case_id=case.id))
        changed += 1
    return changed
