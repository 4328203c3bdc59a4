"""The pure part of a case's deadline clock (no I/O): the plan the case workflow waits on, its ladder of alerts
and how working days move its due moment. The conventions are those of `backend/cases/deadlines.py`, which does
the database work; the case opening builds the first plan here, in its own transaction, so the workflow starts
with it (`StartCase.plan`) instead of reading the case back.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, date, datetime, timedelta

from backend.calendar.workdays import WorkingDayCalendar
from backend.case_types.definitions import AlertPolicy, CaseTypeDefinition
from backend.core.clock import china_day, end_of_day
from backend.models import Case, CaseStage, CaseStatus
from workflows.cases.types import AlertKind, DeadlinePlan, PlannedAlert

_MAX_DAYS_BACK = 366

# When alerts fire around a due day: part of the case type, so a county sets it per type (case_type_configs).
DeadlinePolicy = AlertPolicy
DEFAULT_POLICY = AlertPolicy()


# --- pure: days, moments, ladders ----------------------------------------------------------------------------


def working_days_before(calendar: WorkingDayCalendar, day: date, n: int) -> date:
    """The working day after which exactly `n` working days remain up to and including `day`: the day a
    reminder "n working days left" is due at the end of. For a working `day` it is the n-th working day
    before it; for a due day that is not a working day (a calendar-day rule) the days before it count."""
    remaining, current = 0, day
    for _ in range(_MAX_DAYS_BACK):
        remaining += 1 if calendar.is_working_day(current) else 0
        current -= timedelta(days=1)
        if remaining >= n and calendar.is_working_day(current):
            return current
    raise ValueError(f"no {n} working days within a year before {day}")


def deadline_key(stage: str, stage_started_at: datetime, due_at: datetime) -> str:
    """Names one deadline of a case: `verification@2026-09-28T02:00:00Z/2026-10-23`."""
    started = stage_started_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"{stage}@{started}/{china_day(due_at).isoformat()}"


def alert_ladder(
    calendar: WorkingDayCalendar, due_at: datetime, policy: DeadlinePolicy = DEFAULT_POLICY
) -> list[PlannedAlert]:
    """The reminder, the overdue notice and the escalation rungs of a deadline due at `due_at`, in order."""
    due_day = china_day(due_at)
    reminder_day = working_days_before(calendar, due_day, policy.reminder_working_days)
    ladder = [
        PlannedAlert(kind=AlertKind.reminder, level=0, fire_at=end_of_day(reminder_day)),
        PlannedAlert(kind=AlertKind.overdue, level=1, fire_at=due_at),
    ]
    for level, days in enumerate(policy.escalation_working_days, start=2):
        rung_day = calendar.add_working_days(due_day, days).date
        ladder.append(PlannedAlert(kind=AlertKind.escalation, level=level, fire_at=end_of_day(rung_day)))
    return ladder


def remaining_working_days(calendar: WorkingDayCalendar, due_at: datetime, stopped_at: datetime) -> int:
    """The budget left when the clock stops at `stopped_at`: working days after that day up to the due day."""
    return max(0, calendar.working_days_between(china_day(stopped_at), china_day(due_at)))


def resumed_due(calendar: WorkingDayCalendar, resumed_at: datetime, remaining: int) -> tuple[datetime, bool]:
    """The due moment when the clock restarts at `resumed_at` with `remaining` working days, and whether it is
    provisional (counted through a year without a published schedule)."""
    due = calendar.add_working_days(china_day(resumed_at), remaining)
    return end_of_day(due.date), due.provisional


def extended_due(calendar: WorkingDayCalendar, due_at: datetime, days: int) -> tuple[datetime, bool]:
    """The due moment `days` working days after the current due day (延期)."""
    due = calendar.add_working_days(china_day(due_at), days)
    return end_of_day(due.date), due.provisional


def next_stage(definition: CaseTypeDefinition, stage: CaseStage) -> CaseStage | None:
    """The stage after `stage` in the type's order; None after the last (or for a stage the type lacks)."""
    stages = list(definition.stages)
    if stage not in stages or stages.index(stage) + 1 >= len(stages):
        return None
    return stages[stages.index(stage) + 1]


def build_plan(
    case: Case, definition: CaseTypeDefinition, calendar: WorkingDayCalendar, signed: Collection[str] = ()
) -> DeadlinePlan:
    """The plan of the case as it is: its running deadline (if any) and that deadline's whole ladder. In a stage
    with signature steps the running deadline is the pending step's, named after it (`audit#review@...`)."""
    following = next_stage(definition, case.stage)
    running = case.due_at is not None and case.stage != CaseStage.closed and case.status != CaseStatus.suspended
    stage_started_at = case.stage_started_at or case.received_at
    step = definition.pending_step(case.stage, signed) if case.stage != CaseStage.closed else None
    clock = f"{case.stage.value}#{step.key}" if step is not None else case.stage.value
    return DeadlinePlan(
        stage=case.stage.value,
        status=case.status.value,
        next_stage=following.value if following else None,
        outcome=case.outcome.value if case.outcome else None,
        stage_started_at=stage_started_at,
        deadline_key=deadline_key(clock, stage_started_at, case.due_at) if running and case.due_at else None,
        due_at=case.due_at,
        due_provisional=case.due_provisional,
        reminder_working_days=definition.alerts.reminder_working_days,
        suspended_at=case.suspended_at,
        remaining_working_days=case.remaining_working_days,
        extension_used=case.extension_used,
        overdue=case.overdue,
        escalation_level=case.escalation_level,
        alerts=alert_ladder(calendar, case.due_at, definition.alerts) if running and case.due_at else [],
        signoff_step=step.key if step is not None else None,
    )
