"""The committed histories of the main case scenarios replay against the current workflow code.

A change to CaseWorkflow that would make a running case's history diverge (an activity added, removed or
reordered, a timer moved) fails here with a NondeterminismError: put it behind `workflow.patched()` and keep
the old histories. Refresh them with `make replay-capture` (RECORD_HISTORIES=1) after an intended change.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from workflows.worker import CASE_WORKFLOWS

HISTORIES = Path(__file__).parent / "histories"
SCENARIOS = ["first_child_registration", "inflow_registration_escalation", "reward_signoffs", "opened_with_plan"]


@pytest.mark.parametrize("scenario", SCENARIOS)
async def test_committed_history_replays_against_current_code(scenario: str) -> None:
    path = HISTORIES / f"{scenario}.json"
    assert path.exists(), f"no committed history {path.name}: run `make replay-capture`"
    history_json = path.read_text(encoding="utf-8")
    workflow_id = json.loads(history_json)["events"][0]["workflowExecutionStartedEventAttributes"].get(
        "workflowId", scenario
    )
    replayer = Replayer(workflows=CASE_WORKFLOWS, data_converter=pydantic_data_converter)
    await replayer.replay_workflow(WorkflowHistory.from_json(workflow_id, history_json))
