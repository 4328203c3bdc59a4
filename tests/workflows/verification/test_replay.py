"""The committed histories replay against the current VerificationRequestWorkflow: a late answer (ladder raised,
then settled; recorded before the `verification-replan` patch) and a replanned deadline (after it). A change
that would make running requests diverge fails here."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from workflows.verification.workflows import VerificationRequestWorkflow

HISTORIES = Path(__file__).parent / "histories"


@pytest.mark.parametrize("name", ["late_answer", "replanned"])
async def test_committed_history_replays_against_current_code(name: str) -> None:
    path = HISTORIES / f"{name}.json"
    assert path.exists(), f"no committed history {path.name}: run the workflow tests with RECORD_HISTORIES=1"
    history_json = path.read_text(encoding="utf-8")
    workflow_id = json.loads(history_json)["events"][0]["workflowExecutionStartedEventAttributes"].get(
        "workflowId", name
    )
    replayer = Replayer(workflows=[VerificationRequestWorkflow], data_converter=pydantic_data_converter)
    await replayer.replay_workflow(WorkflowHistory.from_json(workflow_id, history_json))
