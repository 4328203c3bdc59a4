"""CaseWorkflow on the time-skipping test server, with the real activities against the test database.

See conftest.py for how time is handled: literal 2026 dates for the calendar arithmetic (back-dated cases and
actions carrying `requested_at`), the server's own time for when alerts fire.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update
from temporalio import activity
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError

from backend.case_types.definitions import DEFAULT_CASE_TYPES, DeadlineRule
from backend.db.tenancy import set_tenant
from backend.models import Case, CaseStage, CaseStatus
from tests.workflows.cases.conftest import CHINA, Harness, china, end_of_china_day, kinds
from workflows.cases.activities import CaseActivities
from workflows.cases.types import (
    AppliedAction,
    ApplyActionInput,
    CaseAction,
    CaseWorkflowResult,
    RaiseAlertInput,
    RaiseAlertResult,
)
from workflows.cases.workflows import CaseWorkflow

HISTORIES = Path(__file__).parent / "histories"
# Set RECORD_HISTORIES=1 (make replay-capture) to refresh the committed histories from a real run.
RECORD = os.environ.get("RECORD_HISTORIES") == "1"

LADDER = [("reminder", 0), ("overdue", 1), ("escalation", 2), ("escalation", 3)]
CACHE_MODES = [pytest.param({}, id="cached"), pytest.param({"max_cached_workflows": 0}, id="replay-every-task")]


def utc(year: int, month: int, day: int) -> datetime:
    """The end of a China day in UTC, as due dates are stored."""
    return datetime(year, month, day, 15, 59, 59, tzinfo=UTC)


async def alert_event_counts(harness: Harness, case_id: uuid.UUID) -> dict[str, int]:
    counts: dict[str, int] = {}
    for event in await harness.events(case_id):
        if event.action in ("case.reminder", "case.overdue", "case.escalation"):
            counts[event.action] = counts.get(event.action, 0) + 1
    return counts


async def accepted_updates(handle: WorkflowHandle[Any, Any]) -> list[str]:
    """The ids of the updates the workflow accepted (those that entered history)."""
    history = await handle.fetch_history()
    return [
        event.workflow_execution_update_accepted_event_attributes.accepted_request.meta.update_id
        for event in history.events
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED
    ]


# --- literal 2026 dates ----------------------------------------------------------------------------------------


async def test_registration_from_2026_02_12_is_due_2026_02_28_and_a_late_start_raises_each_rung_once(
    harness: Harness,
) -> None:
    case = await harness.add_case("first_child_registration", CaseStage.registration, china(2026, 2, 12, 10))
    async with harness.worker():
        handle = await harness.start(case)
        plan = await harness.settle(handle)
        assert plan.due_at == utc(2026, 2, 28)
        assert plan.deadline_key == "registration@2026-02-12T02:00:00Z/2026-02-28"
        assert plan.alerts == []  # every rung's moment has passed: all raised
        await harness.env.sleep(timedelta(days=30))
        await harness.settle(handle)

    stored = await harness.case(case.id)
    assert stored.due_at == utc(2026, 2, 28) and stored.overdue is True and stored.escalation_level == 3
    alerts = sorted(await harness.alerts(case.id), key=lambda alert: alert.level)
    # The reminder (due 2026-02-26) is not raised after the due moment; the overdue notice says more.
    assert kinds(alerts) == LADDER[1:]
    assert {alert.deadline_key for alert in alerts} == {"registration@2026-02-12T02:00:00Z/2026-02-28"}
    assert await alert_event_counts(harness, case.id) == {"case.overdue": 1, "case.escalation": 2}


@pytest.mark.parametrize("worker_options", CACHE_MODES)
async def test_suspension_keeps_spent_days_spent_and_resumption_replans_the_ladder(
    harness: Harness, worker_options: dict[str, Any]
) -> None:
    officer = harness.user("t1.officer")
    # Verification with 15 WD from Mon 2026-09-28: due Fri 2026-10-23 (National Day 1-7 Oct off, Sat 10 Oct
    # worked).
    case = await harness.add_case("inflow_registration", CaseStage.verification, china(2026, 9, 28, 9))
    original_key = "verification@2026-09-28T01:00:00Z/2026-10-23"
    async with harness.worker(**worker_options):
        # 补正 on Fri 2026-10-09: spent 29, 30 Sep, 8, 9 Oct; left 10 (Sat, worked), 12-16, 19-23 Oct = 11.
        handle, suspended = await harness.start_with(
            case,
            harness.action(
                CaseAction.request_materials, officer, requested_at=china(2026, 10, 9, 16), reason="缺结婚证"
            ),
        )
        assert (suspended.status, suspended.due_at) == ("suspended", None)
        assert "11" in suspended.message
        stored = await harness.case(case.id)
        assert stored.suspended_at == china(2026, 10, 9, 16) and stored.remaining_working_days == 11
        assert stored.due_at is None

        # Materials in on Mon 2026-10-19: 11 WD after it are 20-23, 26-30 Oct, 2, 3 Nov.
        resumed = await harness.act(
            handle,
            harness.action(CaseAction.materials_received, officer, requested_at=china(2026, 10, 19, 9, 30)),
        )
        assert (resumed.status, resumed.due_at) == ("open", utc(2026, 11, 3))
        plan = await harness.settle(handle)
        new_key = "verification@2026-09-28T01:00:00Z/2026-11-03"
        assert plan.deadline_key == new_key

        closed = await harness.act(
            handle, harness.action(CaseAction.close, officer, outcome="registered", reason="核实无误")
        )
        assert (closed.stage, closed.status) == ("closed", "done")
        result: CaseWorkflowResult = await handle.result()
        assert result == CaseWorkflowResult(stage="closed", status="done", outcome="registered")

    stored = await harness.case(case.id)
    assert stored.suspended_at is None and stored.remaining_working_days is None
    assert stored.closed_at is not None and stored.outcome is not None and stored.outcome.value == "registered"
    alerts = await harness.alerts(case.id)
    # The original deadline never alerted (the clock stopped 2 weeks before it); the resumed one, long past
    # when the test runs, raised its rungs once: overdue 3 Nov, township 5 Nov, county 10 Nov.
    assert original_key not in {alert.deadline_key for alert in alerts}
    assert sorted(kinds(alerts)) == sorted(LADDER[1:])
    assert {alert.deadline_key for alert in alerts} == {new_key}
    actions = [event.action for event in await harness.events(case.id) if event.action.startswith("case.")]
    assert actions.count("case.request_materials") == 1 and actions.count("case.materials_received") == 1
    suspension = next(event for event in await harness.events(case.id, "case.request_materials"))
    assert suspension.actor_id == str(officer.id) and suspension.reason == "缺结婚证"
    assert suspension.changes["remaining_working_days"] == [None, 11]


async def test_a_case_is_extended_once_by_a_supervisor(harness: Harness) -> None:
    officer, supervisor = harness.user("t1.officer"), harness.user("t1.sup")
    case = await harness.add_case("first_child_registration", CaseStage.registration, china(2026, 2, 12, 10))
    async with harness.worker():
        # Approved on 2026-02-25, before the due day 2026-02-28: five working days more, 2-6 March.
        handle, extended = await harness.start_with(
            case,
            harness.action(
                CaseAction.extend, supervisor, requested_at=china(2026, 2, 25, 10), extension_working_days=5
            ),
        )
        assert extended.due_at == utc(2026, 3, 6)
        again = await harness.refused(
            handle, harness.action(CaseAction.extend, supervisor, requested_at=china(2026, 2, 26, 10))
        )
        assert again.type == "ActionRefused" and "只能延期一次" in again.message
        by_officer = await harness.refused(handle, harness.action(CaseAction.extend, officer))
        assert "只能延期一次" in by_officer.message
        await harness.settle(handle)

    stored = await harness.case(case.id)
    assert stored.extension_used is True and stored.due_at == utc(2026, 3, 6)
    assert [event.actor_id for event in await harness.events(case.id, "case.extend")] == [str(supervisor.id)]
    alerts = await harness.alerts(case.id)
    assert {alert.deadline_key for alert in alerts} == {"registration@2026-02-12T02:00:00Z/2026-03-06"}


async def test_an_extension_needs_a_supervisor(harness: Harness) -> None:
    officer = harness.user("t1.officer")
    case = await harness.add_case("first_child_registration", CaseStage.registration, china(2026, 2, 12, 10))
    async with harness.worker():
        handle = await harness.start(case)
        await harness.plan(handle)
        refused = await harness.refused(
            handle, harness.action(CaseAction.extend, officer, requested_at=china(2026, 2, 25, 10))
        )
        assert refused.type == "ExtensionNotAuthorized" and "负责人批准" in refused.message
        county_supervisor = harness.user("county.sup")
        extended = await harness.act(
            handle, harness.action(CaseAction.extend, county_supervisor, requested_at=china(2026, 2, 25, 10))
        )
        assert extended.due_at == utc(2026, 3, 6)
    assert [event.actor_id for event in await harness.events(case.id, "case.extend")] == [str(county_supervisor.id)]


async def test_an_extension_is_refused_once_the_deadline_has_passed(harness: Harness) -> None:
    supervisor = harness.user("t1.sup")
    case = await harness.add_case("first_child_registration", CaseStage.registration, china(2026, 2, 12, 10))
    async with harness.worker():
        # Asked on Mon 2026-03-02, after the due moment (end of 2026-02-28).
        action = harness.action(CaseAction.extend, supervisor, requested_at=china(2026, 3, 2, 9))
        with pytest.raises(WorkflowUpdateFailedError) as failure:
            await harness.start_with(case, action)
        assert "已超期" in str(failure.value.cause)
        handle = harness.handles[-1]
        await harness.settle(handle)
        # Asked now (the overdue notice is out): refused by the validator, before entering history.
        assert "已超期" in (await harness.refused(handle, harness.action(CaseAction.extend, supervisor))).message
        assert await accepted_updates(handle) == [action.request_id]
    stored = await harness.case(case.id)
    assert stored.extension_used is False and stored.due_at == utc(2026, 2, 28)


# --- timing on the server's clock --------------------------------------------------------------------------------

RULES = [
    pytest.param(code, rule, id=f"{code}-{rule.stage.value}")
    for code, definition in DEFAULT_CASE_TYPES.items()
    for rule in definition.deadlines
]


@pytest.mark.parametrize(("case_type", "rule"), RULES)
async def test_each_rung_fires_once_at_its_moment(harness: Harness, case_type: str, rule: DeadlineRule) -> None:
    start = await harness.now()
    case = await harness.add_case(case_type, rule.stage, start)
    calendar = await harness.calendar()
    start_day = start.astimezone(CHINA).date()
    if rule.working_days is not None:
        due_day = calendar.add_working_days(start_day, rule.working_days).date
    else:
        due_day = start_day + timedelta(days=rule.calendar_days or 0)

    async with harness.worker():
        handle = await harness.start(case)
        plan = await harness.plan(handle)
        assert plan.due_at == end_of_china_day(due_day)
        assert [(alert.kind.value, alert.level) for alert in plan.alerts] == LADDER
        reminder, overdue, township, county = (alert.fire_at.astimezone(CHINA).date() for alert in plan.alerts)
        assert calendar.is_working_day(reminder) and calendar.working_days_between(reminder, due_day) == 2
        assert overdue == due_day and plan.alerts[1].fire_at == plan.due_at
        assert calendar.is_working_day(township) and calendar.working_days_between(due_day, township) == 2
        assert calendar.is_working_day(county) and calendar.working_days_between(due_day, county) == 5

        await harness.run_until(handle, plan.alerts[-1].fire_at + timedelta(days=30))
        alerts = sorted(await harness.alerts(case.id), key=lambda alert: alert.level)
        assert kinds(alerts) == LADDER
        for alert, planned in zip(alerts, plan.alerts, strict=True):
            # created_at is the workflow's time when the timer fired.
            assert planned.fire_at <= alert.created_at < planned.fire_at + timedelta(minutes=1)
            assert alert.deadline_key == plan.deadline_key
        units = harness.county.units
        assert [(alert.recipient_unit_code, alert.recipient_role, alert.recipient_user_id) for alert in alerts] == [
            (units["v11"], None, harness.user("t1.officer").id),
            (units["v11"], None, harness.user("t1.officer").id),
            (units["t1"], "township_supervisor", None),
            (units["county"], "county_supervisor", None),
        ]
        assert await alert_event_counts(harness, case.id) == {
            "case.reminder": 1,
            "case.overdue": 1,
            "case.escalation": 2,
        }
        stored = await harness.case(case.id)
        assert stored.overdue is True and stored.escalation_level == 3
        closed = await harness.act(
            handle, harness.action(CaseAction.close, harness.user("t1.officer"), outcome="completed")
        )
        assert closed.stage == "closed"
        assert (await handle.result()).stage == "closed"


async def test_nothing_fires_before_its_moment(harness: Harness) -> None:
    case = await harness.add_case("notification_triage", CaseStage.verification, await harness.now())
    async with harness.worker():
        handle = await harness.start(case)
        plan = await harness.plan(handle)
        seen: list[tuple[str, int]] = []
        for rung in plan.alerts:
            await harness.run_until(handle, rung.fire_at - timedelta(minutes=5))
            assert kinds(await harness.alerts(case.id)) == seen
            assert (await harness.case(case.id)).overdue is (len(seen) > 1)
            await harness.run_until(handle, rung.fire_at + timedelta(minutes=5))
            seen.append((rung.kind.value, rung.level))
            assert kinds(await harness.alerts(case.id)) == seen
        assert (await harness.case(case.id)).escalation_level == 3


class LostAfterCommit(CaseActivities):
    """Each activity's first attempt fails after its transaction committed, as when a worker dies between the
    commit and reporting the result: Temporal retries it."""

    @activity.defn(name="cases.raise_alert")
    async def raise_alert(self, request: RaiseAlertInput) -> RaiseAlertResult:
        result = await super().raise_alert(request)
        if activity.info().attempt == 1:
            raise RuntimeError("worker lost after commit")
        return result

    @activity.defn(name="cases.apply_action")
    async def apply_action(self, request: ApplyActionInput) -> AppliedAction:
        result = await super().apply_action(request)
        if activity.info().attempt == 1:
            raise RuntimeError("worker lost after commit")
        return result


async def test_retried_activities_raise_each_rung_and_apply_each_action_once(harness: Harness) -> None:
    officer = harness.user("t1.officer")
    case = await harness.add_case("complaint", CaseStage.verification, await harness.now())
    async with harness.worker(activities=LostAfterCommit(harness.database)):
        handle = await harness.start(case)
        plan = await harness.plan(handle)
        await harness.env.sleep(timedelta(days=3))
        suspended = await harness.act(handle, harness.action(CaseAction.request_materials, officer))
        assert suspended.status == "suspended"
        await harness.env.sleep(timedelta(days=7))
        resumed = await harness.act(handle, harness.action(CaseAction.materials_received, officer))
        assert resumed.due_at is not None and resumed.due_at > plan.alerts[1].fire_at
        plan = await harness.plan(handle)
        await harness.run_until(handle, plan.alerts[-1].fire_at + timedelta(days=30))

    actions = [event.action for event in await harness.events(case.id)]
    assert actions.count("case.request_materials") == 1 and actions.count("case.materials_received") == 1
    assert kinds(sorted(await harness.alerts(case.id), key=lambda alert: alert.level)) == LADDER
    assert await alert_event_counts(harness, case.id) == {"case.reminder": 1, "case.overdue": 1, "case.escalation": 2}
    history = await handle.fetch_history()
    retried = [
        event
        for event in history.events
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED
        and event.activity_task_started_event_attributes.attempt > 1
    ]
    assert len(retried) >= 6  # load_plan is not flaky: 2 actions + 4 rungs


async def test_suspended_clock_raises_nothing_and_resumes_with_the_budget_left(harness: Harness) -> None:
    officer = harness.user("t1.officer")
    start = await harness.now()
    case = await harness.add_case("inflow_registration", CaseStage.verification, start)
    calendar = await harness.calendar()
    async with harness.worker():
        handle = await harness.start(case)
        plan = await harness.plan(handle)
        assert plan.due_at is not None
        await harness.env.sleep(timedelta(days=4))
        suspended_at = await harness.now()
        left = calendar.working_days_between(
            suspended_at.astimezone(CHINA).date(), plan.due_at.astimezone(CHINA).date()
        )
        suspended = await harness.act(handle, harness.action(CaseAction.request_materials, officer))
        assert str(left) in suspended.message
        # Far beyond the old due date and every rung: nothing fires while the clock is stopped.
        await harness.env.sleep(timedelta(days=60))
        assert await harness.alerts(case.id) == []
        resumed_at = await harness.now()
        resumed = await harness.act(handle, harness.action(CaseAction.materials_received, officer))
        assert resumed.due_at is not None
        assert (
            calendar.working_days_between(resumed_at.astimezone(CHINA).date(), resumed.due_at.astimezone(CHINA).date())
            == left
        )


async def test_refused_actions_never_enter_history(harness: Harness) -> None:
    officer = harness.user("t1.officer")
    case = await harness.add_case("inflow_registration", CaseStage.verification, await harness.now())
    async with harness.worker():
        handle = await harness.start(case)
        await harness.plan(handle)
        for action, message in [
            (harness.action(CaseAction.materials_received, officer), "未处于补正"),
            (harness.action(CaseAction.advance, officer), "请办结"),
            (harness.action(CaseAction.refuse, officer), "须书面说明理由"),
            (harness.action(CaseAction.close, officer), "办结须填写结果"),
            (harness.action(CaseAction.close, officer, outcome="deferred"), "须书面说明理由"),
        ]:
            assert message in (await harness.refused(handle, action)).message
        assert await accepted_updates(handle) == []
        refused = await harness.act(handle, harness.action(CaseAction.refuse, officer, reason="非本辖区流入人口"))
        assert (refused.stage, refused.status) == ("closed", "done")
        assert (await handle.result()).outcome == "refused"
    stored = await harness.case(case.id)
    assert stored.outcome is not None and stored.outcome.value == "refused"
    assert stored.outcome_reason == "非本辖区流入人口"


async def test_a_duplicate_delivery_is_answered_once_even_after_continue_as_new(harness: Harness) -> None:
    supervisor = harness.user("t1.sup")
    case = await harness.add_case("first_child_registration", CaseStage.registration, await harness.now())
    async with harness.worker():
        handle = await harness.start(case, history_limit=25)
        first_run = (await handle.describe()).run_id
        await harness.plan(handle)
        extend = harness.action(CaseAction.extend, supervisor)
        extended = await harness.act(handle, extend)
        assert await harness.act(handle, extend) == extended  # same update id, same run: Temporal's dedup
        plan = await harness.plan(handle)
        await harness.run_until(handle, plan.alerts[-1].fire_at + timedelta(days=10))
        assert (await handle.describe()).run_id != first_run  # continued as new on the way
        # Same request id in a later run: answered from the carried state, not refused as a second extension.
        assert await harness.act(handle, extend) == extended
    assert len(await harness.events(case.id, "case.extend")) == 1
    assert kinds(sorted(await harness.alerts(case.id), key=lambda alert: alert.level)) == LADDER
    assert await alert_event_counts(harness, case.id) == {"case.reminder": 1, "case.overdue": 1, "case.escalation": 2}


async def test_a_case_closed_outside_the_workflow_ends_it_at_the_next_rung(harness: Harness) -> None:
    case = await harness.add_case("contraception_report", CaseStage.service_delivery, await harness.now())
    async with harness.worker():
        handle = await harness.start(case)
        plan = await harness.plan(handle)
        async with harness.database.sessionmaker() as session, session.begin():
            await set_tenant(session, harness.county.tenant.id)
            await session.execute(
                update(Case)
                .where(Case.id == case.id)
                .values(stage=CaseStage.closed, status=CaseStatus.done, due_at=None, version=Case.version + 1)
            )
        await harness.env.sleep(plan.alerts[0].fire_at - await harness.now() + timedelta(hours=1))
        result = await handle.result()
    assert result.stage == "closed"
    assert await harness.alerts(case.id) == []


async def test_replan_follows_a_due_date_recounted_outside_the_workflow(harness: Harness) -> None:
    case = await harness.add_case("complaint", CaseStage.verification, await harness.now())
    async with harness.worker():
        handle = await harness.start(case)
        plan = await harness.plan(handle)
        assert plan.due_at is not None
        # As after a holiday notice: the API recounts the due date (three days later) and signals the workflow.
        recounted = plan.due_at + timedelta(days=3)
        async with harness.database.sessionmaker() as session, session.begin():
            await set_tenant(session, harness.county.tenant.id)
            await session.execute(
                update(Case).where(Case.id == case.id).values(due_at=recounted, version=Case.version + 1)
            )
        await handle.signal(CaseWorkflow.replan)
        for _ in range(200):
            replanned = await harness.plan(handle)
            if replanned.due_at == recounted:
                break
            await asyncio.sleep(0.05)
        assert replanned.due_at == recounted and replanned.deadline_key != plan.deadline_key
        assert replanned.alerts[1].fire_at == recounted
        await harness.run_until(handle, replanned.alerts[-1].fire_at + timedelta(days=5))
    alerts = await harness.alerts(case.id)
    assert {alert.deadline_key for alert in alerts} == {replanned.deadline_key}
    assert kinds(sorted(alerts, key=lambda alert: alert.level)) == LADDER


# --- the main scenarios (recorded for the replay tests) ---------------------------------------------------------


@pytest.mark.parametrize("worker_options", CACHE_MODES)
async def test_first_child_registration_through_to_close_with_a_suspension(
    harness: Harness, worker_options: dict[str, Any]
) -> None:
    officer = harness.user("t1.officer")
    case = await harness.add_case("first_child_registration", CaseStage.registration, await harness.now())
    calendar = await harness.calendar()
    async with harness.worker(**worker_options):
        handle = await harness.start(case)
        await harness.plan(handle)
        await harness.env.sleep(timedelta(days=2))
        verification = await harness.act(handle, harness.action(CaseAction.advance, officer))
        assert verification.stage == "verification" and verification.due_at is not None
        await harness.env.sleep(timedelta(days=3))
        suspended_day = (await harness.now()).astimezone(CHINA).date()
        suspended = await harness.act(
            handle, harness.action(CaseAction.request_materials, officer, reason="缺户籍地婚育证明")
        )
        assert suspended.status == "suspended"
        left = calendar.working_days_between(suspended_day, verification.due_at.astimezone(CHINA).date())
        await harness.env.sleep(timedelta(days=20))
        resumed_day = (await harness.now()).astimezone(CHINA).date()
        resumed = await harness.act(handle, harness.action(CaseAction.materials_received, officer))
        assert resumed.due_at is not None
        assert calendar.working_days_between(resumed_day, resumed.due_at.astimezone(CHINA).date()) == left
        plan = await harness.plan(handle)
        await harness.run_until(handle, plan.alerts[0].fire_at + timedelta(hours=1))  # the reminder only
        for stage in ("service_delivery", "follow_up", "audit"):
            moved = await harness.act(handle, harness.action(CaseAction.advance, officer))
            assert moved.stage == stage
        closed = await harness.act(handle, harness.action(CaseAction.close, officer, outcome="registered"))
        assert closed.stage == "closed"
        assert await handle.result() == CaseWorkflowResult(stage="closed", status="done", outcome="registered")
        history = await handle.fetch_history()

    assert [(alert.kind, alert.deadline_key) for alert in await harness.alerts(case.id)] == [
        ("reminder", plan.deadline_key)
    ]
    actions = [event.action for event in await harness.events(case.id)]
    assert actions == [
        "case.deadline",
        "case.advance",
        "case.request_materials",
        "case.materials_received",
        "case.reminder",
        "case.advance",
        "case.advance",
        "case.advance",
        "case.close",
    ]
    if RECORD and not worker_options:
        (HISTORIES / "first_child_registration.json").write_text(history.to_json(), encoding="utf-8")


@pytest.mark.parametrize("worker_options", CACHE_MODES)
async def test_inflow_registration_escalates_to_the_county(harness: Harness, worker_options: dict[str, Any]) -> None:
    officer = harness.user("t1.officer")
    case = await harness.add_case("inflow_registration", CaseStage.registration, await harness.now())
    async with harness.worker(**worker_options):
        handle = await harness.start(case)
        assert (await harness.plan(handle)).alerts == []  # registration has no deadline rule
        await harness.env.sleep(timedelta(days=1))
        verification = await harness.act(handle, harness.action(CaseAction.advance, officer))
        assert verification.stage == "verification"
        plan = await harness.plan(handle)
        await harness.run_until(handle, plan.alerts[-1].fire_at + timedelta(days=5))
        closed = await harness.act(handle, harness.action(CaseAction.close, officer, outcome="registered"))
        assert closed.stage == "closed"
        assert (await handle.result()).outcome == "registered"
        history = await handle.fetch_history()

    assert kinds(sorted(await harness.alerts(case.id), key=lambda alert: alert.level)) == LADDER
    assert await alert_event_counts(harness, case.id) == {"case.reminder": 1, "case.overdue": 1, "case.escalation": 2}
    if RECORD and not worker_options:
        (HISTORIES / "inflow_registration_escalation.json").write_text(history.to_json(), encoding="utf-8")
