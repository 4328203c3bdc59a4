"""A case opened through the service starts its workflow with the plan the opening transaction built: the same
plan the workflow's first activity would read back from the case row, so that activity (a database transaction in
the worker and three more history events per case) is not needed.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select
from temporalio.api.enums.v1 import EventType

from backend.cases import deadlines, service
from backend.cases.schemas import CaseCreate
from backend.core import outbox
from backend.core.clock import utc_now
from backend.core.outbox import StartCase
from backend.db.tenancy import set_tenant
from backend.identity.service import principal_for_user
from backend.models import Case, OutboxMessage
from tests.workflows.cases.conftest import Harness, kinds
from workflows.cases.types import DeadlinePlan

HISTORIES = Path(__file__).parent / "histories"
RECORD = os.environ.get("RECORD_HISTORIES") == "1"
LADDER = [("reminder", 0), ("overdue", 1), ("escalation", 2), ("escalation", 3)]


async def _open(harness: Harness) -> tuple[Case, StartCase]:
    officer = harness.user("t1.officer")
    async with harness.database.sessionmaker() as session, session.begin():
        await set_tenant(session, harness.county.tenant.id)
        principal = await principal_for_user(session, officer, None, harness.county.code)
        case = await service.open_case(
            session,
            principal,
            CaseCreate(case_type="first_child_registration", org_unit_code=harness.county.units["v11"]),
        )
        message = (
            await session.execute(
                select(OutboxMessage).where(
                    OutboxMessage.kind == "case.start", OutboxMessage.payload["case_id"].astext == str(case.id)
                )
            )
        ).scalar_one()
    start = outbox.payload_of(message)
    assert isinstance(start, StartCase)
    return case, start


async def test_the_opening_plan_is_the_plan_the_first_activity_would_read_back(harness: Harness) -> None:
    case, start = await _open(harness)
    assert start.plan is not None
    async with harness.database.sessionmaker() as session, session.begin():
        await set_tenant(session, harness.county.tenant.id)
        read_back = await deadlines.load_plan(session, case.id, utc_now())
    assert DeadlinePlan.model_validate(start.plan) == read_back
    assert read_back.due_at == case.due_at and [(alert.kind.value, alert.level) for alert in read_back.alerts] == LADDER


async def test_a_workflow_started_with_the_plan_raises_its_ladder_without_reading_the_case(harness: Harness) -> None:
    case, start = await _open(harness)
    plan = DeadlinePlan.model_validate(start.plan)
    async with harness.worker():
        handle = await harness.start(case, plan=plan)
        assert await harness.plan(handle) == plan
        await harness.run_until(handle, plan.alerts[-1].fire_at + timedelta(days=1))
        history = await handle.fetch_history()

    scheduled = [
        event.activity_task_scheduled_event_attributes.activity_type.name
        for event in history.events
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
    ]
    assert scheduled == ["cases.raise_alert"] * len(LADDER)  # no cases.load_plan
    assert kinds(sorted(await harness.alerts(case.id), key=lambda alert: alert.level)) == LADDER
    if RECORD:
        (HISTORIES / "opened_with_plan.json").write_text(history.to_json(), encoding="utf-8")
