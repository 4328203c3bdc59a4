"""From the API to Temporal through the outbox: sending a request starts its workflow (once, however often the
message is delivered); answering it in the other county settles the workflow."""

from __future__ import annotations

import uuid

from sqlalchemy import update
from temporalio.client import WorkflowExecutionStatus

from backend.db.tenancy import set_tenant
from backend.models import OutboxMessage
from tests.fixtures.identity import SignIn
from tests.workflows.verification.conftest import Harness
from workflows.outbox import OutboxRelay
from workflows.outbox_handlers import case_handlers
from workflows.task_queues import CASES_TASK_QUEUE
from workflows.verification.types import verification_workflow_id
from workflows.verification.workflows import VerificationRequestWorkflow
from workflows.worker import build_case_worker


async def _drain(relay: OutboxRelay, *tenant_ids: uuid.UUID) -> None:
    """Perform the due messages of these counties only (other tests' counties share the database)."""
    for tenant_id in tenant_ids:
        while await relay.process_county(tenant_id):
            pass


async def test_request_starts_its_workflow_through_the_outbox_and_the_answer_settles_it(
    harness: Harness, sign_in: SignIn
) -> None:
    a, b = harness.a, harness.b
    officer_a = await sign_in(a, "t1.officer")
    case = await officer_a.post("/api/v1/cases", json={"case_type": "complaint", "org_unit_code": a.units["v11"]})
    assert case.status_code == 201, case.text
    sent = await officer_a.post(
        "/api/v1/verification/requests",
        json={
            "case_id": case.json()["id"],
            "subject_name": "王芳",
            "responder_division_code": b.units["t1"],
            "question": "请核实其现住址 / please verify the address",
        },
    )
    assert sent.status_code == 201, sent.text
    request = sent.json()
    relay = OutboxRelay(harness.database, case_handlers(harness.env.client))
    async with build_case_worker(harness.env.client, harness.database, task_queue=CASES_TASK_QUEUE):
        await _drain(relay, a.tenant.id)
        handle = harness.env.client.get_workflow_handle_for(
            VerificationRequestWorkflow.run, verification_workflow_id(request["correlation_id"])
        )
        assert (await handle.describe()).status == WorkflowExecutionStatus.RUNNING
        # Delivered again (a relay that crashed before marking it done): the same workflow, still one.
        async with harness.database.sessionmaker() as session, session.begin():
            await set_tenant(session, a.tenant.id)
            await session.execute(update(OutboxMessage).values(processed_at=None))
        await _drain(relay, a.tenant.id)
        first_run = (await handle.describe()).run_id

        officer_b = await sign_in(b, "t1.officer")
        answered = await officer_b.post(
            f"/api/v1/verification/inbox/{request['id']}/answer", json={"answer": "住址属实 / confirmed"}
        )
        assert answered.status_code == 200, answered.text
        await _drain(relay, b.tenant.id)
        result = await handle.result()
    assert result.state == "settled"
    assert (await handle.describe()).run_id == first_run
    assert await harness.alerts(b, uuid.UUID(request["id"])) == []
