"""Maker-checker steps in the case workflow (issue #22 item 1): a reward case waits for each signature with the
step's own deadline and escalation ladder, moves on by its signatures only, refuses the same person twice, and is
decided by the last signature. On the time-skipping server with the real activities and database."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

from backend.authz.vocabulary import Role
from backend.models import CaseOutcome, CaseStage, User
from tests.fixtures.identity import add_user
from tests.workflows.cases.conftest import CHINA, Harness, end_of_china_day, kinds
from workflows.cases.types import CaseAction, CaseActionInput, CaseWorkflowResult, SignoffInput

HISTORIES = Path(__file__).parent / "histories"
RECORD = os.environ.get("RECORD_HISTORIES") == "1"
LADDER = [("reminder", 0), ("overdue", 1), ("escalation", 2), ("escalation", 3)]


def sign(harness: Harness, user: User, step: str, note: str | None = None) -> CaseActionInput:
    return harness.action(CaseAction.sign, user, signoff=SignoffInput(step=step, note=note))


async def test_each_signature_step_has_its_own_deadline_and_ladder_and_the_last_one_decides(harness: Harness) -> None:
    officer, supervisor, county_sup = (harness.user(name) for name in ("t1.officer", "t1.sup", "county.sup"))
    calendar = await harness.calendar()
    started = await harness.now()
    case = await harness.add_case("only_child_reward", CaseStage.verification, started)
    async with harness.worker():
        handle = await harness.start(case)
        plan = await harness.plan(handle)
        # The investigation: 10 working days from the stage's start, named after its step.
        due = end_of_china_day(calendar.add_working_days(started.astimezone(CHINA).date(), 10).date)
        assert (plan.signoff_step, plan.due_at) == ("investigate", due)
        assert plan.deadline_key is not None and plan.deadline_key.startswith("verification#investigate@")

        # A plain advance is refused: the stage moves by its signature.
        refused = await harness.refused(handle, harness.action(CaseAction.advance, officer))
        assert "签字" in refused.message
        # The wrong step is refused before it enters history.
        wrong = sign(harness, supervisor, "review")
        assert "当前待签" in (await harness.refused(handle, wrong)).message

        investigated = await harness.act(handle, sign(harness, officer, "investigate", "入户核实"))
        assert investigated.stage == "audit"
        plan = await harness.plan(handle)
        signed_day = (await harness.now()).astimezone(CHINA).date()
        assert (plan.signoff_step, plan.due_at) == (
            "review",
            end_of_china_day(calendar.add_working_days(signed_day, 5).date),
        )
        review_key = plan.deadline_key
        assert review_key is not None and review_key.startswith("audit#review@")

        # Nobody reviews: the review step's ladder runs to the county supervisor.
        await harness.run_until(handle, plan.alerts[-1].fire_at + timedelta(hours=1))
        # The investigator cannot review her own investigation.
        same = sign(harness, officer, "review")
        assert "同一人不能签署同一案件的两个步骤" in (await harness.refused(handle, same)).message

        reviewed = await harness.act(
            handle, harness.action(CaseAction.sign, supervisor, signoff=SignoffInput(step="review"))
        )
        assert reviewed.stage == "audit"
        assert (await harness.plan(handle)).signoff_step == "sign"
        signed = await harness.act(
            handle, harness.action(CaseAction.sign, county_sup, signoff=SignoffInput(step="sign"))
        )
        assert signed.stage == "closed"
        assert await handle.result() == CaseWorkflowResult(stage="closed", status="done", outcome="registered")
        history = await handle.fetch_history()

    stored = await harness.case(case.id)
    assert stored.outcome == CaseOutcome.registered
    review_alerts = [alert for alert in await harness.alerts(case.id) if alert.deadline_key == review_key]
    assert kinds(sorted(review_alerts, key=lambda alert: alert.level)) == LADDER
    actions = [event.action for event in await harness.events(case.id)]
    assert actions.count("case.sign") == 3 and "case.escalation" in actions
    if RECORD:
        (HISTORIES / "reward_signoffs.json").write_text(history.to_json(), encoding="utf-8")


async def test_a_signer_without_the_steps_permission_is_refused_by_the_activity(harness: Harness) -> None:
    """The API checks the permission first; the activity checks it again against the grants of the moment."""
    officer = harness.user("t1.officer")
    other = await add_user(harness.database, harness.county, "t1.officer2", "t1", [(Role.township_officer, "t1")])
    case = await harness.add_case("only_child_reward", CaseStage.verification, await harness.now())
    async with harness.worker():
        handle = await harness.start(case)
        await harness.act(handle, harness.action(CaseAction.sign, officer, signoff=SignoffInput(step="investigate")))
        refused = await harness.refused(
            handle, harness.action(CaseAction.sign, other, signoff=SignoffInput(step="review"))
        )
        assert "不能作为审核人签字" in refused.message
        assert (await harness.case(case.id)).stage == CaseStage.audit
