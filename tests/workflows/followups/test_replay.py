"""Replay: the committed histories of FollowUpSweepWorkflow must replay against the current workflow code.

The canonical run below (every county listed, one of them with unreadable rules) is what `make replay-capture`
(RECORD_HISTORIES=1) records into histories/. It runs with no workflow cache, so each workflow task replays the
history from the start: a non-deterministic workflow fails here before it fails in production.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from temporalio import activity
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer, Worker

from backend.db.engine import Database
from tests.fixtures.database import TenantFactory
from tests.workflows.followups.conftest import RUN_TIMEOUT, Registry
from workflows.followups import FOLLOWUP_WORKFLOWS
from workflows.followups.activities import FollowUpActivities
from workflows.followups.types import FollowUpSweepInput
from workflows.followups.workflows import FollowUpSweepWorkflow

HISTORIES = Path(__file__).parent / "histories"
RECORD = os.environ.get("RECORD_HISTORIES") == "1"


def listing_only(codes: list[str]) -> Callable[..., Any]:
    """Stands in for the county list, so the sweep of "every county" touches only this test's counties."""

    @activity.defn(name="followups.list_tenants")
    async def list_tenants() -> list[str]:
        return codes

    return list_tenants


async def test_sweep_of_every_county_reports_a_broken_one_and_plans_the_rest(
    time_skipping_env: WorkflowEnvironment, database: Database, registry: Registry, tenant_factory: TenantFactory
) -> None:
    planned = await registry.county(tenant_factory, "计划县")
    await registry.woman(planned, "林芳", key_subject=True)
    await registry.woman(planned, "高敏")
    broken = await registry.county(tenant_factory, "配置错误县")
    await registry.rules(broken, {"check_rounds_per_year": 7})
    await registry.woman(broken, "罗娟")

    task_queue = f"followups-{uuid.uuid4()}"
    activities = FollowUpActivities(database)
    async with Worker(
        time_skipping_env.client,
        task_queue=task_queue,
        workflows=FOLLOWUP_WORKFLOWS,
        activities=[listing_only([planned.code, broken.code]), activities.plan_due],
        max_cached_workflows=0,
    ):
        handle = await time_skipping_env.client.start_workflow(
            FollowUpSweepWorkflow.run,
            FollowUpSweepInput(as_of=date(2031, 4, 20)),
            id=f"followup-sweep-{uuid.uuid4()}",
            task_queue=task_queue,
            run_timeout=RUN_TIMEOUT,
        )
        result = await handle.result()
        history = await handle.fetch_history()

    assert [county.tenant_code for county in result.counties] == [planned.code]
    assert result.counties[0].opened == {"check_round": 2}
    assert [failure.tenant_code for failure in result.failed] == [broken.code]
    assert await registry.cases(broken) == []
    if RECORD:
        (HISTORIES / "followup_sweep.json").write_text(history.to_json(), encoding="utf-8")


async def test_committed_histories_replay_against_current_code() -> None:
    files = sorted(HISTORIES.glob("*.json"))
    assert files, "no committed histories: run `make replay-capture`"
    replayer = Replayer(workflows=FOLLOWUP_WORKFLOWS, data_converter=pydantic_data_converter)
    for path in files:
        history_json = path.read_text(encoding="utf-8")
        workflow_id = json.loads(history_json)["events"][0]["workflowExecutionStartedEventAttributes"].get(
            "workflowId", path.stem
        )
        await replayer.replay_workflow(WorkflowHistory.from_json(workflow_id, history_json))
