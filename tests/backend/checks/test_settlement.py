"""Settling a check-round window (未到位): missed rounds close their case, a departed woman's round is void, the
second miss in a row opens a home visit at the township, a run starts again after an escalation, and a late
result still counts. The settlement service is called as the window's watch calls it (its workflow is tested in
tests/workflows/checks/)."""

from __future__ import annotations

from datetime import date, timedelta

from backend.checks.settlement import SettleOutcome, settle_batch, settles_at
from backend.core.clock import china_day, china_today
from backend.core.context import SYSTEM_ACTOR, actor_var
from backend.db.engine import Database
from backend.db.tenancy import set_tenant
from backend.followups.config import rules_or_defaults
from backend.followups.opening import planner_principal
from backend.followups.rules import add_months, check_round_window
from backend.models import CasePriority, CaseStage, CheckRoundStatus
from tests.fixtures.identity import County, SignIn
from tests.fixtures.village import Village
from tests.workflows.followups.test_sweep import due_day

TODAY = china_today()


async def settle(database: Database, county: County, window_end: date) -> SettleOutcome:
    """Settle a window the moment its grace days are over, as the watch does."""
    actor_var.set(SYSTEM_ACTOR)
    async with database.sessionmaker() as session, session.begin():
        await set_tenant(session, county.tenant.id)
        rules = await rules_or_defaults(session)
        return await settle_batch(
            session, planner_principal(county.tenant), window_end, settles_at(window_end, rules), rules
        )


def closing(messages: list, case_id: object) -> list[tuple[str, str]]:  # type: ignore[type-arg]
    return [
        (message.payload["action"]["action"], message.payload["action"]["outcome"])
        for message in messages
        if message.payload["case_id"] == str(case_id)
    ]


async def test_the_second_missed_round_in_a_row_opens_a_home_visit_at_her_township(
    village: Village, service_county: County, database: Database, sign_in: SignIn
) -> None:
    current = check_round_window(TODAY, 2)
    previous = check_round_window(current.start - timedelta(days=1), 2)
    missing = await village.person(service_county, "王芳")
    checked = await village.person(service_county, "李娜")
    leaving = await village.person(service_county, "赵敏")
    await village.sweep(service_county, previous.start)
    await village.sweep(service_county, TODAY)
    await village.depart(service_county, leaving)

    first = await settle(database, service_county, previous.end)
    assert (first.missed, first.void, first.escalated) == (2, 1, 0)
    assert [round_.status for round_ in await village.rounds(service_county, leaving)] == [
        CheckRoundStatus.void,
        CheckRoundStatus.due,
    ]

    coordinator = await sign_in(service_county, "coord11")
    (_, checked_now) = await village.rounds(service_county, checked)
    recorded = await coordinator.post(
        f"/api/v1/check-rounds/{checked_now.id}/result",
        json={
            "checked_on": TODAY.isoformat(),
            "pregnancy": "not_pregnant",
            "iud": "not_applicable",
            "gynaecology": "not_checked",
            "provider_name": "一镇计生服务站",
        },
    )
    assert recorded.status_code == 201, recorded.text

    second = await settle(database, service_county, current.end)
    assert (second.missed, second.void, second.escalated) == (1, 1, 1)

    (visit,) = await village.cases(service_county, "check_home_visit")
    assert visit.primary_person_id == missing.id
    assert visit.org_unit_code == service_county.units["t1"]  # escalated to her township
    assert visit.priority is CasePriority.high and visit.stage is CaseStage.service_delivery
    assert visit.details["missed_periods"] == [previous.period, current.period]
    assert visit.details["village"] == service_county.units["v11"]
    settled_on = china_day(settles_at(current.end, await _rules(database, service_county)))
    assert due_day(visit) == settled_on + timedelta(days=15)
    last_missed = (await village.rounds(service_county, missing))[-1]
    assert last_missed.status is CheckRoundStatus.missed and last_missed.escalation_case_id == visit.id
    # Each missed round's case was closed as 未到位; the checked one's as completed.
    messages = await village.messages(service_county, "case.act")
    assert closing(messages, last_missed.case_id) == [("close", "no_action")]
    assert closing(messages, checked_now.case_id) == [("close", "completed")]
    # Settling again changes nothing.
    again = await settle(database, service_county, current.end)
    assert (again.missed, again.void, again.escalated) == (0, 0, 0)
    assert len(await village.cases(service_county, "check_home_visit")) == 1


async def _rules(database: Database, county: County):  # type: ignore[no-untyped-def]
    async with database.sessionmaker() as session, session.begin():
        await set_tenant(session, county.tenant.id)
        return await rules_or_defaults(session)


async def test_after_an_escalation_the_next_run_of_misses_starts_again(
    village: Village, service_county: County, database: Database
) -> None:
    await village.rules(service_county, {"check_rounds_per_year": 12, "missed_rounds_before_visit": 2})
    woman = await village.person(service_county, "王芳")
    months = [add_months(TODAY.replace(day=1), offset) for offset in (-4, -3, -2, -1)]
    for month in months:
        await village.sweep(service_county, month)
    escalated = []
    for month in months:
        outcome = await settle(database, service_county, check_round_window(month, 12).end)
        escalated.append(outcome.escalated)
    # Missed, missed → visit; missed, missed → another visit (the first run was answered by the first visit).
    assert escalated == [0, 1, 0, 1]
    rounds = await village.rounds(service_county, woman)
    assert [round_.escalation_case_id is not None for round_ in rounds] == [False, True, False, True]
    assert len(await village.cases(service_county, "check_home_visit", woman)) == 2


async def test_a_result_recorded_after_the_round_was_missed_makes_it_done_late(
    village: Village, service_county: County, database: Database, sign_in: SignIn
) -> None:
    current = check_round_window(TODAY, 2)
    previous = check_round_window(current.start - timedelta(days=1), 2)
    woman = await village.person(service_county, "王芳")
    await village.sweep(service_county, previous.start)
    await settle(database, service_county, previous.end)
    (missed,) = await village.rounds(service_county, woman)
    coordinator = await sign_in(service_county, "coord11")

    late = await coordinator.post(
        f"/api/v1/check-rounds/{missed.id}/result",
        json={
            "checked_on": (previous.end - timedelta(days=3)).isoformat(),
            "pregnancy": "not_pregnant",
            "iud": "in_place",
            "gynaecology": "normal",
            "provider_name": "一镇计生服务站",
        },
    )

    assert late.status_code == 201, late.text
    assert late.json()["status"] == "done"
    # Its case was already closed as missed: nothing more is sent to it.
    assert closing(await village.messages(service_county, "case.act"), missed.case_id) == [("close", "no_action")]
