"""The daily audit-chain check, on the time-skipping test server with the real activities and database."""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer

from backend.db.engine import Database
from tests.fixtures.database import TenantFactory
from workflows.platform.workflows import AuditChainCheckWorkflow
from workflows.worker import WORKFLOWS, build_worker

HISTORIES = Path(__file__).parent / "histories"
# Set RECORD_HISTORIES=1 (make replay-capture) to refresh the committed histories from a real run.
RECORD = os.environ.get("RECORD_HISTORIES") == "1"


async def test_check_reports_intact_and_broken_chains(
    time_skipping_env: WorkflowEnvironment,
    database: Database,
    owner_engine: AsyncEngine,
    tenant_factory: TenantFactory,
) -> None:
    intact, tampered = await tenant_factory(name="完好县"), await tenant_factory(name="被改县")
    async with owner_engine.begin() as connection:
        await connection.execute(text("SELECT set_config('app.tenant_id', :t, true)"), {"t": str(tampered.id)})
        await connection.execute(text("UPDATE audit_events SET action = 'forged' WHERE seq = 1"))

    task_queue = f"test-{uuid.uuid4()}"
    async with build_worker(time_skipping_env.client, database, task_queue=task_queue):
        handle = await time_skipping_env.client.start_workflow(
            AuditChainCheckWorkflow.run, id=f"audit-check-{uuid.uuid4()}", task_queue=task_queue
        )
        result = await handle.result()
        history = await handle.fetch_history()

    by_code = {item.tenant_code: item for item in result.results}
    assert by_code[intact.code].ok is True
    assert by_code[intact.code].events_checked == 1
    assert by_code[tampered.code].ok is False
    assert by_code[tampered.code].broken_seq == 1
    assert tampered.code in {item.tenant_code for item in result.broken}
    if RECORD:
        (HISTORIES / "audit_chain_check.json").write_text(history.to_json(), encoding="utf-8")


async def test_committed_histories_replay_against_current_code() -> None:
    files = sorted(HISTORIES.glob("*.json"))
    assert files, "no committed histories: run `make replay-capture`"
    replayer = Replayer(workflows=WORKFLOWS, data_converter=pydantic_data_converter)
    for path in files:
        history_json = path.read_text(encoding="utf-8")
        workflow_id = json.loads(history_json)["events"][0]["workflowExecutionStartedEventAttributes"].get(
            "workflowId", path.stem
        )
        await replayer.replay_workflow(WorkflowHistory.from_json(workflow_id, history_json))
