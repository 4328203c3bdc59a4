"""The deadline clock of a case (办理时限): the plan the case workflow waits on, and how human actions move it.

Used by the case workflow's activities (workflows/cases/activities.py); the workflow itself does no I/O.

Conventions:
- Every deadline moment is the end of a day in China time (23:59:59 +08:00), like `due_at` from
  `service.compute_due_at`: the reminder, the due moment and each escalation rung.
- Working days are counted on the county's calendar with the start day not counted (期间开始之日不计算在内).
- The ladder of a deadline: a reminder at the end of the working day after which `reminder_working_days`
  (default 2) working days remain, to the assignee; rung 1 at the due moment, to the assignee, marking the
  case overdue; rung 2 two working days after the due day, to the township supervisor of the case's
  township; rung 3 five working days after, to the county supervisor. A county may set these numbers per
  case type (`alerts` in its case-type configuration).
- 补正 (request_materials) stops the clock: the case keeps `remaining_working_days` = the working days after
  the suspension day up to the due day, and has no due date while suspended. materials_received restarts it:
  the new due day is `remaining` working days after the resumption day. Days spent before the suspension stay
  spent; the suspension day itself counts as spent, the resumption day does not.
- A deadline is named by `deadline_key` = stage, the moment the stage began, and the due day. Alerts are
  unique per (case, deadline_key, kind, level), so each rung of a deadline is raised once, a re-planned
  deadline (resumed, extended, recounted) gets a ladder of its own, and a restarted workflow that plans the
  same deadline again raises nothing twice.

Pure functions first (no I/O), then the database work; these flush, never commit.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from backend.audit import service as audit
from backend.authz.vocabulary import Action, Role
from backend.calendar.service import load_calendar
from backend.case_types.definitions import CaseTypeDefinition
from backend.cases import signing
from backend.cases.errors import CaseNotFound
from backend.cases.plans import (
    DeadlinePolicy,
    build_plan,
    extended_due,
    next_stage,
    remaining_working_days,
    resumed_due,
)
from backend.cases.repository import CaseRepository
from backend.cases.service import _case_type, compute_due_at, record, snapshot
from backend.core.clock import china_day
from backend.core.divisions import county_of, township_of
from backend.identity.repository import IdentityRepository
from backend.identity.service import principal_for_user
from backend.models import Case, CaseOutcome, CaseStage, CaseStatus
from backend.notifications import events as notification_events
from backend.notifications.service import notify
from workflows.cases.rules import extension_days, refusal
from workflows.cases.types import (
    AlertKind,
    AppliedAction,
    ApplyActionInput,
    CaseAction,
    CaseActionInput,
    DeadlinePlan,
    PlannedAlert,
    RaiseAlertInput,
    RaiseAlertResult,
)

CLOCK_FIELDS = (
    "stage_started_at",
    "suspended_at",
    "remaining_working_days",
    "extension_used",
    "overdue",
    "escalation_level",
    "due_provisional",
    "closed_at",
)


class ActionRefused(Exception):
    """The case row does not allow the action (checked again in the activity: the database is the truth)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ExtensionNotAuthorized(ActionRefused):
    """The sender of an extension holds no case.assign (supervisor) grant over the case's unit."""


# --- database --------------------------------------------------------------------------------------------------


async def lock_case(session: AsyncSession, case_id: uuid.UUID) -> Case:
    """The case row of the session's tenant, locked for this transaction (the workflow's activities and the
    API serialise on it)."""
    case = await CaseRepository(session).get(case_id, for_update=True)
    if case is None:
        raise CaseNotFound()
    return case


def _audit_snapshot(case: Case) -> dict[str, Any]:
    return snapshot(case) | {name: getattr(case, name) for name in CLOCK_FIELDS}


async def load_plan(session: AsyncSession, case_id: uuid.UUID, now: datetime) -> DeadlinePlan:
    """The case's plan; first stores what the clock needs and the case lacks, audited as `case.deadline`.

    A stage without a start moment starts at `received_at` for the type's first stage (the API opens cases
    so), otherwise at `now`; a running stage without a due date gets one from the type's deadline rule.
    """
    case = await lock_case(session, case_id)
    definition = await _case_type(session, case.case_type)
    signed = await signing.signed_steps(session, case)
    if case.stage != CaseStage.closed:
        before = _audit_snapshot(case)
        if case.stage_started_at is None:
            case.stage_started_at = case.received_at if case.stage == definition.stages[0] else now
        if case.due_at is None and case.status != CaseStatus.suspended:
            case.due_at, case.due_provisional = await compute_due_at(
                session, definition, case.stage, case.stage_started_at, signed
            )
        if audit.diff(before, _audit_snapshot(case)):
            await session.flush()
            await record(session, case, "case.deadline", audit.diff(before, _audit_snapshot(case)))
    return build_plan(case, definition, await load_calendar(session), signed)


def _recipient(case: Case, alert: PlannedAlert) -> tuple[str, str | None, uuid.UUID | None]:
    """(unit, role, user) an alert goes to: the assignee (or the unit's queue), then the supervisors."""
    unit = case.org_unit_code
    if alert.kind in (AlertKind.reminder, AlertKind.overdue):
        return unit, None, case.assignee_id
    township = township_of(unit)
    if alert.level == 2 and township is not None:
        return township, Role.township_supervisor.value, None
    return county_of(unit), Role.county_supervisor.value, None


def _alert_message(case: Case, alert: PlannedAlert, due_at: datetime, policy: DeadlinePolicy) -> str:
    due = china_day(due_at).isoformat()
    if alert.kind is AlertKind.reminder:
        days = policy.reminder_working_days
        return (
            f"案件{case.number}将于{due}到期，剩余{days}个工作日 / case {case.number} is due on {due}: "
            f"{days} working days left"
        )
    if alert.kind is AlertKind.overdue:
        return f"案件{case.number}已超过办理时限（{due}）/ case {case.number} is overdue (due {due})"
    days = policy.escalation_working_days[alert.level - 2] if 2 <= alert.level <= 3 else 0
    who = ("乡镇（街道）负责人", "township supervisor") if alert.level == 2 else ("县级负责人", "county supervisor")
    return (
        f"案件{case.number}超期{days}个工作日仍未办结（时限{due}），请{who[0]}督办 / case {case.number} is still "
        f"open {days} working days after its deadline ({due}): {who[1]} to follow up"
    )


async def raise_alert(session: AsyncSession, request: RaiseAlertInput) -> RaiseAlertResult:
    """Write the CaseAlert of one rung and its audit event (`case.reminder`, `case.overdue`,
    `case.escalation`), at most once per (case, deadline, kind, level): INSERT ... ON CONFLICT DO NOTHING,
    and the audit event only when the row was inserted. Rung 1 and above mark the case overdue and record the
    escalation level. Nothing is written when the case no longer has this deadline."""
    case = await lock_case(session, request.case_id)
    definition = await _case_type(session, case.case_type)
    plan = build_plan(case, definition, await load_calendar(session), await signing.signed_steps(session, case))
    if plan.deadline_key != request.deadline_key:
        return RaiseAlertResult(raised=False, current=False)
    alert = request.alert
    unit, role, user_id = _recipient(case, alert)
    message = _alert_message(case, alert, request.due_at, definition.alerts)
    alert_id = await CaseRepository(session).add_alert_once(
        id=uuid.uuid4(),
        case_id=case.id,
        deadline_key=request.deadline_key,
        kind=alert.kind.value,
        level=alert.level,
        recipient_unit_code=unit,
        recipient_role=role,
        recipient_user_id=user_id,
        message=message[:300],
        created_at=request.now,
    )
    if alert_id is None:
        return RaiseAlertResult(raised=False)
    before = {"overdue": case.overdue, "escalation_level": case.escalation_level}
    if alert.kind is not AlertKind.reminder:
        case.overdue = True
        case.escalation_level = max(case.escalation_level, alert.level)
    await session.flush()
    after = {
        "overdue": case.overdue,
        "escalation_level": case.escalation_level,
        "alert_id": alert_id,
        "deadline_key": request.deadline_key,
        "level": alert.level,
        "fire_at": alert.fire_at,
        "recipient_unit_code": unit,
        "recipient_role": role,
        "recipient_user_id": user_id,
    }
    await record(session, case, f"case.{alert.kind.value}", audit.diff(before, after), reason=message[:500])
    await notify(
        session, notification_events.case_alert(case, alert.kind.value, alert.level, request.deadline_key, message)
    )
    return RaiseAlertResult(raised=True)


def audit_request_id(request_id: str) -> str:
    """The update's request id as the audit log stores it (64 characters at most)."""
    if len(request_id) <= 64:
        return request_id
    return hashlib.sha256(request_id.encode()).hexdigest()


async def _already_applied(session: AsyncSession, case: Case, request_id: str) -> bool:
    """Whether an action with this request id was applied: its audit event carries the id."""
    return await CaseRepository(session).action_recorded(case.id, request_id)


async def _authorize_extension(session: AsyncSession, case: Case, action: CaseActionInput) -> None:
    """An extension is approved by a supervisor: a user holding case.assign over the case's unit."""
    user = None
    if action.actor.kind == "user":
        try:
            user = await IdentityRepository(session).user_by_id(uuid.UUID(action.actor.id))
        except ValueError:
            user = None
    if user is not None and user.active:
        principal = await principal_for_user(session, user, None, county_of(case.org_unit_code))
        if principal.can(Action.case_assign, case.org_unit_code):
            return
    raise ExtensionNotAuthorized(
        f"延期须由负责人批准，{action.actor.label} 无此权限 / an extension needs a supervisor's approval; "
        f"{action.actor.label} holds no case.assign over unit {case.org_unit_code}"
    )


def _action_message(action: CaseActionInput, case: Case) -> str:
    due = china_day(case.due_at).isoformat() if case.due_at else None
    match action.action:
        case CaseAction.request_materials:
            if case.remaining_working_days is None:
                return "已中止，等待补正材料 / waiting for materials"
            days = case.remaining_working_days
            return f"时限中止，剩余{days}个工作日 / the clock is stopped with {days} working days left"
        case CaseAction.materials_received:
            return f"材料已收到，时限恢复，{due}到期 / materials received, the clock runs again: due {due}"
        case CaseAction.extend:
            days = extension_days(action)
            return f"已延期{days}个工作日，{due}到期 / extended by {days} working days: due {due}"
        case CaseAction.advance:
            suffix = f"，{due}到期 / due {due}" if due else ""
            return f"已进入下一阶段 {case.stage.value}{suffix}"
        case CaseAction.sign if case.stage != CaseStage.closed:
            suffix = f"，{due}到期 / due {due}" if due else ""
            step = action.signoff.step if action.signoff else ""
            return f"已签字（{step}），当前阶段 {case.stage.value}{suffix} / signed {step}"
    return f"案件已办结（{case.outcome.value if case.outcome else ''}）/ the case is closed"


async def apply_action(session: AsyncSession, request: ApplyActionInput) -> AppliedAction:
    """Apply a human action to the case row at `request.effective_at`, audited as `case.<action>` with the
    sender as actor (the caller sets the actor and request id context). Idempotent: an action whose request
    id is already in the case's audit trail is not applied again; the case's current plan is returned."""
    action = request.action
    case = await lock_case(session, request.case_id)
    definition = await _case_type(session, case.case_type)
    calendar = await load_calendar(session)
    signed = await signing.signed_steps(session, case)
    if await _already_applied(session, case, audit_request_id(action.request_id)):
        return AppliedAction(
            plan=build_plan(case, definition, calendar, signed), message=_action_message(action, case), replayed=True
        )
    refused = refusal(build_plan(case, definition, calendar, signed), action, request.effective_at)
    if refused is None and (definition.signoffs or action.action is CaseAction.sign):
        refused = await signing.refusal(session, case, definition, action)
    if refused is not None:
        raise ActionRefused(refused)
    if action.action is CaseAction.extend:
        await _authorize_extension(session, case, action)

    at = request.effective_at
    before = _audit_snapshot(case)
    match action.action:
        case CaseAction.request_materials:
            case.remaining_working_days = (
                remaining_working_days(calendar, case.due_at, at) if case.due_at is not None else None
            )
            case.status, case.suspended_at, case.due_at = CaseStatus.suspended, at, None
        case CaseAction.materials_received:
            if case.remaining_working_days is not None:
                case.due_at, case.due_provisional = resumed_due(calendar, at, case.remaining_working_days)
            case.status, case.suspended_at, case.remaining_working_days = CaseStatus.open, None, None
            case.overdue, case.escalation_level = False, 0
        case CaseAction.extend:
            assert case.due_at is not None  # refusal() checked it
            case.due_at, case.due_provisional = extended_due(calendar, case.due_at, extension_days(action))
            case.extension_used = True
        case CaseAction.advance:
            following = next_stage(definition, case.stage)
            assert following is not None  # refusal() checked it
            await _enter_stage(session, case, definition, following, at, signed)
        case CaseAction.refuse | CaseAction.close:
            outcome = CaseOutcome.refused if action.action is CaseAction.refuse else CaseOutcome(str(action.outcome))
            _close(case, outcome, action.reason, at)
        case CaseAction.sign:
            signed = await _sign(session, case, definition, action, at, signed)
    await session.flush()
    changes = audit.diff(before, _audit_snapshot(case))
    await record(session, case, f"case.{action.action.value}", changes, reason=action.reason or _signed_note(action))
    return AppliedAction(plan=build_plan(case, definition, calendar, signed), message=_action_message(action, case))


async def _enter_stage(
    session: AsyncSession,
    case: Case,
    definition: CaseTypeDefinition,
    stage: CaseStage,
    at: datetime,
    signed: Collection[str],
) -> None:
    """Move the case into `stage` at `at`, with the stage's (or its first signature step's) deadline."""
    case.stage, case.status, case.stage_started_at = stage, CaseStatus.open, at
    case.due_at, case.due_provisional = await compute_due_at(session, definition, stage, at, signed)
    case.overdue, case.escalation_level = False, 0


def _close(case: Case, outcome: CaseOutcome, reason: str | None, at: datetime) -> None:
    case.stage, case.status, case.outcome = CaseStage.closed, CaseStatus.done, outcome
    case.outcome_reason, case.closed_at = reason, at
    case.due_at, case.due_provisional, case.overdue = None, False, False
    case.suspended_at, case.remaining_working_days = None, None


async def _sign(
    session: AsyncSession,
    case: Case,
    definition: CaseTypeDefinition,
    action: CaseActionInput,
    at: datetime,
    signed: frozenset[str],
) -> frozenset[str]:
    """Record the signature of the pending step (signing.refusal checked it), then run the clock on: the stage's
    next step from `at` (the running clock restarts at each signature), or the next stage once the stage's steps
    are all signed, or, after the type's last step, the decision (closed as registered: 予以批准). The steps
    signed afterwards."""
    step = definition.pending_step(case.stage, signed)
    assert step is not None  # signing.refusal checked it
    repository = CaseRepository(session)
    repository.add(signing.new_signoff(case, step, action, at, audit_request_id(action.request_id)))
    await repository.flush()
    signed = signed | {step.key}
    if definition.pending_step(case.stage, signed) is not None:
        await _enter_stage(session, case, definition, case.stage, at, signed)
        return signed
    following = next_stage(definition, case.stage)
    if following is None or following is CaseStage.closed:
        _close(case, CaseOutcome.registered, None, at)
    else:
        await _enter_stage(session, case, definition, following, at, signed)
    return signed


def _signed_note(action: CaseActionInput) -> str | None:
    """The audit event's reason for a signature: the step and the signer's note."""
    if action.signoff is None:
        return None
    return f"{action.signoff.step}: {action.signoff.note}" if action.signoff.note else action.signoff.step
