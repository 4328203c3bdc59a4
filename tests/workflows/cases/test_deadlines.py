"""The deadline clock without Temporal: ladders, suspension and extension arithmetic on the 2026 official
calendar (dates computed by hand), the plan of a case read from the database, and the action rules."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import pytest

from backend.calendar.official import official_calendar
from backend.cases import deadlines, plans
from backend.core.context import SYSTEM_ACTOR, actor_var
from backend.db.engine import Database
from backend.db.tenancy import set_tenant
from backend.models import CaseOutcome, CaseStage, CaseStatus, CaseTypeConfig
from tests.workflows.cases.conftest import Harness, china
from workflows.cases.rules import effective_time, refusal
from workflows.cases.types import (
    CASE_OUTCOMES,
    CLOSED_STAGE,
    SUSPENDED_STATUS,
    ActorRef,
    AlertKind,
    CaseAction,
    CaseActionInput,
    DeadlinePlan,
)

CALENDAR = official_calendar()


def utc(year: int, month: int, day: int, hour: int = 15, minute: int = 59, second: int = 59) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def test_contract_spells_stages_statuses_and_outcomes_as_the_database() -> None:
    assert CASE_OUTCOMES == {outcome.value for outcome in CaseOutcome}
    assert CLOSED_STAGE == CaseStage.closed.value
    assert SUSPENDED_STATUS == CaseStatus.suspended.value


def test_ladder_of_a_deadline_due_on_the_spring_festival_make_up_saturday() -> None:
    # Due 2026-02-28 (a make-up workday). Reminder: 2 working days left (27th, 28th) after Thursday the 26th.
    # Rung 2: two working days after the due day (Mon 2 Mar, Tue 3 Mar); rung 3: five (Fri 6 Mar).
    ladder = plans.alert_ladder(CALENDAR, utc(2026, 2, 28))
    assert [(alert.kind, alert.level, alert.fire_at) for alert in ladder] == [
        (AlertKind.reminder, 0, utc(2026, 2, 26)),
        (AlertKind.overdue, 1, utc(2026, 2, 28)),
        (AlertKind.escalation, 2, utc(2026, 3, 3)),
        (AlertKind.escalation, 3, utc(2026, 3, 6)),
    ]


@pytest.mark.parametrize(
    ("due", "reminder_day"),
    [
        (date(2026, 2, 24), date(2026, 2, 13)),  # after the Spring Festival: left are Sat 14 Feb (make-up) and 24 Feb
        (date(2026, 10, 8), date(2026, 9, 29)),  # after National Day: left are 30 Sep and 8 Oct
        (date(2026, 11, 29), date(2026, 11, 25)),  # a Sunday (calendar-day rules): left are Thu 26 and Fri 27
    ],
)
def test_reminder_leaves_two_working_days(due: date, reminder_day: date) -> None:
    assert plans.working_days_before(CALENDAR, due, 2) == reminder_day
    assert CALENDAR.working_days_between(reminder_day, due) == 2


def test_suspension_keeps_the_days_spent_before_it() -> None:
    # Received Mon 2026-09-28 with 15 WD: 29, 30 Sep, (1-7 Oct off), 8, 9, Sat 10 (make-up), 12-16, 19-23 Oct.
    due = plans.end_of_day(CALENDAR.add_working_days(date(2026, 9, 28), 15).date)
    assert due == utc(2026, 10, 23)
    # Suspended on Fri 9 Oct: 4 days spent (29, 30 Sep, 8, 9 Oct), 11 left (10, 12-16, 19-23 Oct).
    assert plans.remaining_working_days(CALENDAR, due, china(2026, 10, 9, 16)) == 11
    # Resumed Mon 19 Oct: 11 working days after it are 20-23, 26-30 Oct, 2 and 3 Nov.
    assert plans.resumed_due(CALENDAR, china(2026, 10, 19, 9, 30), 11) == (utc(2026, 11, 3), False)


def test_nothing_is_left_when_the_clock_stops_on_the_due_day() -> None:
    assert plans.remaining_working_days(CALENDAR, utc(2026, 10, 23), china(2026, 10, 23, 17)) == 0


def test_extension_adds_working_days_to_the_due_day() -> None:
    # Five working days after Sat 28 Feb 2026: 2-6 March.
    assert plans.extended_due(CALENDAR, utc(2026, 2, 28), 5) == (utc(2026, 3, 6), False)


def test_deadline_key_names_stage_start_and_due_day() -> None:
    key = plans.deadline_key("verification", china(2026, 9, 28, 9), utc(2026, 10, 23))
    assert key == "verification@2026-09-28T01:00:00Z/2026-10-23"


async def test_plan_of_a_registration_received_2026_02_12_is_stored_with_its_due_date(
    harness: Harness, database: Database
) -> None:
    case = await harness.add_case("first_child_registration", CaseStage.registration, china(2026, 2, 12, 10))
    actor_var.set(SYSTEM_ACTOR)
    async with database.sessionmaker() as session, session.begin():
        await set_tenant(session, harness.county.tenant.id)
        plan = await deadlines.load_plan(session, case.id, datetime.now(UTC))
    # 7 working days, 12 Feb not counted: 13, Sat 14 (make-up), (15-23 off), 24, 25, 26, 27, Sat 28 (make-up).
    assert plan.due_at == utc(2026, 2, 28) and plan.due_provisional is False
    assert plan.deadline_key == "registration@2026-02-12T02:00:00Z/2026-02-28"
    assert plan.reminder_at == utc(2026, 2, 26)
    assert [alert.fire_at for alert in plan.alerts] == [
        utc(2026, 2, 26),
        utc(2026, 2, 28),
        utc(2026, 3, 3),
        utc(2026, 3, 6),
    ]
    assert plan.next_stage == "verification"
    stored = await harness.case(case.id)
    assert stored.due_at == utc(2026, 2, 28)
    assert [event.action for event in await harness.events(case.id)] == ["case.deadline"]
    # Loading again stores and audits nothing more.
    async with database.sessionmaker() as session, session.begin():
        await set_tenant(session, harness.county.tenant.id)
        assert await deadlines.load_plan(session, case.id, datetime.now(UTC)) == plan
    assert len(await harness.events(case.id)) == 1


async def test_a_countys_alert_settings_for_the_type_move_the_reminder_and_the_rungs(
    harness: Harness, database: Database
) -> None:
    case = await harness.add_case("first_child_registration", CaseStage.registration, china(2026, 2, 12, 10))
    actor_var.set(SYSTEM_ACTOR)
    async with database.sessionmaker() as session, session.begin():
        await set_tenant(session, harness.county.tenant.id)
        session.add(
            CaseTypeConfig(
                id=uuid.uuid4(),
                tenant_id=harness.county.tenant.id,
                code="first_child_registration",
                overrides={"alerts": {"reminder_working_days": 3, "escalation_working_days": [1, 4]}},
            )
        )
    async with database.sessionmaker() as session, session.begin():
        await set_tenant(session, harness.county.tenant.id)
        plan = await deadlines.load_plan(session, case.id, datetime.now(UTC))
    # Due Sat 28 Feb as above; 3 working days left (26, 27, 28) after Wed 25 Feb; rungs 1 (Mon 2 Mar) and 4 (Thu 5
    # Mar) working days after the due day.
    assert plan.due_at == utc(2026, 2, 28) and plan.reminder_at == utc(2026, 2, 25)
    assert [alert.fire_at for alert in plan.alerts] == [
        utc(2026, 2, 25),
        utc(2026, 2, 28),
        utc(2026, 3, 2),
        utc(2026, 3, 5),
    ]


async def test_stage_without_a_deadline_rule_has_no_timers(harness: Harness, database: Database) -> None:
    case = await harness.add_case("inflow_registration", CaseStage.registration, china(2026, 3, 2, 9))
    actor_var.set(SYSTEM_ACTOR)
    async with database.sessionmaker() as session, session.begin():
        await set_tenant(session, harness.county.tenant.id)
        plan = await deadlines.load_plan(session, case.id, datetime.now(UTC))
    assert plan.due_at is None and plan.deadline_key is None and plan.alerts == []


# --- rules ---------------------------------------------------------------------------------------------------

OFFICER = ActorRef(kind="user", id=str(uuid.uuid4()), label="officer")
RUNNING = DeadlinePlan(
    stage="verification",
    status="open",
    next_stage="closed",
    stage_started_at=china(2026, 9, 28, 9),
    deadline_key="k",
    due_at=utc(2026, 10, 23),
)
SUSPENDED = RUNNING.model_copy(
    update={"status": "suspended", "due_at": None, "suspended_at": china(2026, 10, 9), "remaining_working_days": 11}
)
CLOSED = RUNNING.model_copy(update={"stage": "closed", "status": "done", "due_at": None})
BEFORE_DUE, AFTER_DUE = china(2026, 10, 20), china(2026, 10, 26)


def action(kind: CaseAction, **fields: object) -> CaseActionInput:
    return CaseActionInput(request_id="r", action=kind, actor=OFFICER, **fields)


@pytest.mark.parametrize(
    ("plan", "proposed", "at", "refused"),
    [
        (CLOSED, action(CaseAction.advance), BEFORE_DUE, "案件已办结"),
        (CLOSED, action(CaseAction.close, outcome="registered"), BEFORE_DUE, "案件已办结"),
        (RUNNING, action(CaseAction.advance), BEFORE_DUE, "请办结"),
        (SUSPENDED, action(CaseAction.advance), BEFORE_DUE, "补正期间不能推进"),
        (RUNNING, action(CaseAction.materials_received), BEFORE_DUE, "未处于补正"),
        (SUSPENDED, action(CaseAction.request_materials), BEFORE_DUE, "已在等待补正"),
        (RUNNING, action(CaseAction.request_materials), AFTER_DUE, "已超过办理时限"),
        (RUNNING.model_copy(update={"extension_used": True}), action(CaseAction.extend), BEFORE_DUE, "只能延期一次"),
        (RUNNING, action(CaseAction.extend), AFTER_DUE, "已超期"),
        (SUSPENDED, action(CaseAction.extend), BEFORE_DUE, "补正期间"),
        (RUNNING, action(CaseAction.extend, extension_working_days=0), BEFORE_DUE, "延期须为1至30个工作日"),
        (RUNNING, action(CaseAction.extend, extension_working_days=31), BEFORE_DUE, "延期须为1至30个工作日"),
        (RUNNING, action(CaseAction.refuse), BEFORE_DUE, "须书面说明理由"),
        (RUNNING, action(CaseAction.refuse, reason="  "), BEFORE_DUE, "须书面说明理由"),
        (RUNNING, action(CaseAction.close), BEFORE_DUE, "办结须填写结果"),
        (RUNNING, action(CaseAction.close, outcome="approved"), BEFORE_DUE, "办结须填写结果"),
        (RUNNING, action(CaseAction.close, outcome="deferred"), BEFORE_DUE, "须书面说明理由"),
    ],
)
def test_actions_the_state_does_not_allow_are_refused(
    plan: DeadlinePlan, proposed: CaseActionInput, at: datetime, refused: str
) -> None:
    message = refusal(plan, proposed, at)
    assert message is not None and refused in message


@pytest.mark.parametrize(
    ("plan", "proposed"),
    [
        (RUNNING, action(CaseAction.request_materials)),
        (RUNNING, action(CaseAction.extend)),
        (RUNNING, action(CaseAction.refuse, reason="不符合条件")),
        (RUNNING, action(CaseAction.close, outcome="registered")),
        (SUSPENDED, action(CaseAction.materials_received)),
        (SUSPENDED, action(CaseAction.close, outcome="withdrawn")),
        (RUNNING.model_copy(update={"next_stage": "service_delivery"}), action(CaseAction.advance)),
    ],
)
def test_allowed_actions_pass(plan: DeadlinePlan, proposed: CaseActionInput) -> None:
    assert refusal(plan, proposed, BEFORE_DUE) is None


def test_an_action_takes_effect_when_requested_within_the_running_clock() -> None:
    now = china(2026, 11, 22)
    assert effective_time(RUNNING, action(CaseAction.extend, requested_at=china(2026, 10, 20)), now) == china(
        2026, 10, 20
    )
    assert effective_time(RUNNING, action(CaseAction.extend), now) == now
    # Never in the future, never before the clock's last move.
    assert effective_time(RUNNING, action(CaseAction.extend, requested_at=china(2027, 1, 1)), now) == now
    assert effective_time(RUNNING, action(CaseAction.extend, requested_at=china(2026, 9, 1)), now) == china(
        2026, 9, 28, 9
    )
    assert effective_time(
        SUSPENDED, action(CaseAction.materials_received, requested_at=china(2026, 10, 1)), now
    ) == china(2026, 10, 9)
