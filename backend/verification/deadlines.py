"""Deadlines of a verification request, on both sides, from the working-day calendar.

- Requester: the request must be sent within `SEND_WORKING_DAYS` (7) working days of the day the materials
  arrived (the requester's case's `received_at`); `sent_on_time` records whether it was. The escalation for a
  request not sent at all is the registration stage of the requester's case (CaseWorkflow). A notice's sending
  deadline is its case's notifying stage (15 working days from the registration or approval).
- Responder: the answer is due `ANSWER_WORKING_DAYS` (15) working days after the day the request arrived; the
  ladder is the case ladder (reminder 2 working days before, overdue at the due moment, township supervisor 2
  and county supervisor 5 working days after); the request expires `EXPIRY_WORKING_DAYS` (10) working days
  after the due day if still unanswered.
The start day is not counted; every moment is the end of a China day. The sending deadline is counted on the
requester's calendar; the answer, its ladder and the expiry on the responder's (the State Council's schedule
plus the responder county's own holidays; the schedule alone for a county not on the platform, whose holidays
we cannot know). When a county declares or withdraws a holiday, `recompute_answer_dues` recounts the pending
requests it must answer and their workflows re-plan.

The database work of VerificationRequestWorkflow's activities is here too; it flushes, never commits.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from backend.audit import service as audit
from backend.authz.vocabulary import Role
from backend.calendar.service import load_calendar, official_calendar
from backend.calendar.workdays import WorkingDayCalendar
from backend.cases.plans import alert_ladder
from backend.core import outbox
from backend.core.clock import china_day, end_of_day
from backend.core.divisions import county_of
from backend.db.tenancy import set_tenant
from backend.models import VerificationRequest, VerificationState
from backend.verification.errors import VerificationNotFound
from backend.verification.repository import VerificationRepository
from workflows.cases.types import AlertKind
from workflows.verification.types import (
    VerificationAlertInput,
    VerificationAlertResult,
    VerificationExpireInput,
    VerificationLoadInput,
    VerificationPlan,
    verification_workflow_id,
)

REPLAN_VERIFICATION = outbox.OutboxKind.verification_replan
SEND_WORKING_DAYS = 7
ANSWER_WORKING_DAYS = 15
NOTICE_WORKING_DAYS = 15  # a registration or approval is notified within 15 working days
EXPIRY_WORKING_DAYS = 10
EXPIRED_LEVEL = 4


def due_after(calendar: WorkingDayCalendar, start: datetime, working_days: int) -> tuple[datetime, bool]:
    """End of the China day `working_days` working days after `start`'s day, and whether it is provisional."""
    due = calendar.add_working_days(china_day(start), working_days)
    return end_of_day(due.date), due.provisional


def expiry(calendar: WorkingDayCalendar, answer_due_at: datetime) -> datetime:
    return due_after(calendar, answer_due_at, EXPIRY_WORKING_DAYS)[0]


async def responder_calendar(session: AsyncSession, responder_tenant_id: uuid.UUID | None) -> WorkingDayCalendar:
    """The calendar the responder's deadline runs on: its county's (its holidays are read under its own tenant
    setting, then the transaction goes back to the current county), or the official schedule alone for a
    county not on the platform."""
    if responder_tenant_id is None:
        return await official_calendar(session)
    current = session.info.get("tenant_id")
    if current == responder_tenant_id:
        return await load_calendar(session)
    await set_tenant(session, responder_tenant_id)
    try:
        return await load_calendar(session)
    finally:
        if current is not None:
            await set_tenant(session, current)


def build_plan(request: VerificationRequest, calendar: WorkingDayCalendar) -> VerificationPlan:
    if request.state != VerificationState.pending:
        return VerificationPlan(open=False)
    return VerificationPlan(
        open=True,
        answer_due_at=request.answer_due_at,
        expires_at=request.expires_at,
        alerts=alert_ladder(calendar, request.answer_due_at),
    )


def deadline_tenant(request: VerificationRequest) -> uuid.UUID:
    """The county whose deadline the answer is: the responder's, or the requester's when the responder is off
    the platform (its officer chases the letter, and its own log records it)."""
    return request.responder_tenant_id or request.tenant_id


def _recipient(request: VerificationRequest, level: int) -> tuple[str, str | None, uuid.UUID | None]:
    """Reminder and overdue notice (levels 0, 1) to the assignee or the unit's queue; rung 2 to the township
    supervisor; rung 3 and the expiry to the county supervisor."""
    unit = (request.responder_unit_code if request.responder_tenant_id else request.requester_unit_code) or ""
    if level <= 1:
        return unit, None, request.responder_assignee_id if request.responder_tenant_id else None
    if level == 2 and len(unit) >= 9:
        return unit[:9], Role.township_supervisor.value, None
    return county_of(unit), Role.county_supervisor.value, None


def _message(request: VerificationRequest, kind: str, level: int) -> str:
    due = china_day(request.answer_due_at).isoformat()
    ref = request.correlation_id
    if kind == AlertKind.reminder:
        return f"协查{ref}将于{due}到期 / verification {ref} is due on {due}"
    if kind == AlertKind.overdue:
        return f"协查{ref}已超过反馈时限（{due}）/ verification {ref} is overdue (due {due})"
    if kind == "expired":
        return f"协查{ref}逾期未反馈，已过期 / verification {ref} expired unanswered (due {due})"
    who = ("乡镇（街道）负责人", "township supervisor") if level == 2 else ("县级负责人", "county supervisor")
    return f"协查{ref}超期仍未反馈，请{who[0]}督办 / verification {ref} still unanswered: {who[1]} to follow up"


async def load_plan(session: AsyncSession, request: VerificationLoadInput) -> VerificationPlan:
    """The request's deadline plan as it stands (closed, or its due moment, expiry and alert ladder)."""
    row = await VerificationRepository(session).get(request.request_id)
    if row is None:
        raise VerificationNotFound()
    return build_plan(row, await responder_calendar(session, row.responder_tenant_id))


async def _insert_alert(
    session: AsyncSession, request: VerificationRequest, kind: str, level: int, now: datetime
) -> tuple[uuid.UUID | None, str]:
    """The alert row of one rung, in the deadline side's county (the transaction is scoped to it)."""
    unit, role, user_id = _recipient(request, level)
    message = _message(request, kind, level)
    alert_id = await VerificationRepository(session).insert_alert(
        request.id,
        kind,
        level,
        recipient_unit_code=unit,
        recipient_role=role,
        recipient_user_id=user_id,
        message=message[:300],
        created_at=now,
    )
    return alert_id, message


async def _record(
    session: AsyncSession,
    row: VerificationRequest,
    action: str,
    changes: dict[str, Any],
    *,
    reason: str | None = None,
    unit_code: str | None = None,
) -> None:
    """An event of the deadline in the current county's chain, under the request's correlation id; filed by
    default under the unit whose deadline it is (the responder's, or the requester's chasing an off-platform
    responder)."""
    await audit.record(
        session,
        action=action,
        entity_type="verification_request",
        entity_id=row.id,
        org_unit_code=unit_code or (row.responder_unit_code if row.responder_tenant_id else row.requester_unit_code),
        changes=changes,
        reason=reason,
        correlation_id=row.correlation_id,
    )


async def raise_alert(session: AsyncSession, request: VerificationAlertInput) -> VerificationAlertResult:
    """One rung, at most once, in the deadline side's county: the alert row, the request's overdue marks and
    an audit event (`verification.reminder|overdue|escalation`) carrying the correlation id."""
    row = await VerificationRepository(session).lock(request.request_id)
    if row.state != VerificationState.pending:
        return VerificationAlertResult(raised=False, open=False)
    await set_tenant(session, deadline_tenant(row))
    alert = request.alert
    alert_id, message = await _insert_alert(session, row, alert.kind.value, alert.level, request.now)
    if alert_id is None:
        return VerificationAlertResult(raised=False)
    before = {"responder_overdue": row.responder_overdue, "responder_escalation_level": row.responder_escalation_level}
    if alert.kind is not AlertKind.reminder:
        row.responder_overdue = True
        row.responder_escalation_level = max(row.responder_escalation_level, alert.level)
    await session.flush()
    after = {"responder_overdue": row.responder_overdue, "responder_escalation_level": row.responder_escalation_level}
    changes = audit.diff(before, after | {"alert_id": alert_id, "level": alert.level})
    await _record(session, row, f"verification.{alert.kind.value}", changes, reason=message[:500])
    return VerificationAlertResult(raised=True)


async def expire(session: AsyncSession, request: VerificationExpireInput) -> bool:
    """Mark a still-pending request expired: it counts as unanswered against the responder. Both counties'
    logs record it under the correlation id."""
    row = await VerificationRepository(session).lock(request.request_id)
    if row.state != VerificationState.pending:
        return False
    row.state = VerificationState.expired
    row.closed_at = request.now
    row.answered_on_time = False
    await session.flush()
    for tenant_id in dict.fromkeys([deadline_tenant(row), row.tenant_id]):
        await set_tenant(session, tenant_id)
        if tenant_id == deadline_tenant(row):
            await _insert_alert(session, row, "expired", EXPIRED_LEVEL, request.now)
        unit = row.responder_unit_code if tenant_id == row.responder_tenant_id else row.requester_unit_code
        await _record(session, row, "verification.expired", {"state": ["pending", "expired"]}, unit_code=unit)
    return True


async def recompute_answer_dues(
    session: AsyncSession, affected_from: datetime, *, reason: str = "official calendar imported"
) -> int:
    """After the calendar changed (a county holiday declared or withdrawn, a State Council notice imported):
    recount the answer deadlines of the pending requests this county must answer (or, for a responder off the
    platform, chases itself) whose expiry runs through the changed dates, on the responder's calendar; audit
    each change (`verification.deadline_recomputed`) and tell its workflow to re-plan. Returns how many moved."""
    changed = 0
    for row in await VerificationRepository(session).answer_dues_from(affected_from):
        calendar = await responder_calendar(session, row.responder_tenant_id)
        answer_due_at, provisional = due_after(calendar, row.arrived_at, ANSWER_WORKING_DAYS)
        expires_at = expiry(calendar, answer_due_at)
        if (answer_due_at, provisional, expires_at) == (row.answer_due_at, row.answer_due_provisional, row.expires_at):
            continue
        before = {"answer_due_at": row.answer_due_at, "expires_at": row.expires_at}
        row.answer_due_at, row.answer_due_provisional, row.expires_at = answer_due_at, provisional, expires_at
        await session.flush()
        changes = audit.diff(before, {"answer_due_at": answer_due_at, "expires_at": expires_at})
        await _record(session, row, "verification.deadline_recomputed", changes, reason=reason)
        await outbox.enqueue(
            session,
            outbox.ReplanVerification(workflow_id=verification_workflow_id(row.correlation_id), request_id=row.id),
        )
        changed += 1
    return changed
