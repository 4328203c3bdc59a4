"""What the outbox relay does with each kind of message: Temporal calls, each idempotent by its id."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.service import RPCError, RPCStatusCode

from backend.core.outbox import Handler, PermanentFailure
from backend.models import OutboxMessage
from workflows.cases.types import CaseActionInput, CaseActionResult, CaseWorkflowInput, case_workflow_id
from workflows.task_queues import CASES_TASK_QUEUE
from workflows.verification.types import VerificationWorkflowInput, verification_workflow_id

CASE_WORKFLOW = "CaseWorkflow"
CASE_ACT_UPDATE = "act"
CASE_REPLAN_SIGNAL = "replan"
VERIFICATION_WORKFLOW = "VerificationRequestWorkflow"
VERIFICATION_SETTLED_SIGNAL = "settled"
VERIFICATION_REPLAN_SIGNAL = "replan"
RPC_TIMEOUT = timedelta(seconds=10)


def case_handlers(client: Client) -> dict[str, Handler]:
    async def start_case(message: OutboxMessage) -> dict[str, Any]:
        workflow_input = CaseWorkflowInput.model_validate(message.payload)
        workflow_id = case_workflow_id(workflow_input.tenant_code, workflow_input.case_id)
        # USE_EXISTING: a second delivery of the same start finds the running workflow instead of failing.
        handle = await client.start_workflow(
            CASE_WORKFLOW,
            workflow_input,
            id=workflow_id,
            task_queue=CASES_TASK_QUEUE,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            rpc_timeout=RPC_TIMEOUT,
        )
        return {"workflow_id": handle.id, "run_id": handle.result_run_id}

    async def act_on_case(message: OutboxMessage) -> dict[str, Any]:
        action = CaseActionInput.model_validate(message.payload["action"])
        handle = client.get_workflow_handle(message.payload["workflow_id"])
        try:
            result = await handle.execute_update(
                CASE_ACT_UPDATE,
                action,
                id=action.request_id,
                result_type=CaseActionResult,
                rpc_timeout=RPC_TIMEOUT,
            )
        except WorkflowUpdateFailedError as failure:
            # The workflow's validator or handler refused the action: retrying would be refused again.
            raise PermanentFailure(str(failure.cause or failure)) from None
        except RPCError:
            raise  # Temporal unreachable, or the workflow not started yet: retried with backoff
        return result.model_dump(mode="json")

    async def replan_case(message: OutboxMessage) -> dict[str, Any]:
        # The calendar changed under a running deadline: the workflow reloads its plan from the database.
        await client.get_workflow_handle(message.payload["workflow_id"]).signal(
            CASE_REPLAN_SIGNAL, rpc_timeout=RPC_TIMEOUT
        )
        return {"signalled": True}

    async def start_verification(message: OutboxMessage) -> dict[str, Any]:
        workflow_input = VerificationWorkflowInput.model_validate(message.payload)
        handle = await client.start_workflow(
            VERIFICATION_WORKFLOW,
            workflow_input,
            id=verification_workflow_id(workflow_input.correlation_id),
            task_queue=CASES_TASK_QUEUE,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            rpc_timeout=RPC_TIMEOUT,
        )
        return {"workflow_id": handle.id, "run_id": handle.result_run_id}

    async def settle_verification(message: OutboxMessage) -> dict[str, Any]:
        # Answered, rejected or withdrawn: the workflow stops its timers. A workflow already finished (it
        # expired the request, or was never started) has nothing to stop.
        try:
            await client.get_workflow_handle(message.payload["workflow_id"]).signal(
                VERIFICATION_SETTLED_SIGNAL, rpc_timeout=RPC_TIMEOUT
            )
        except RPCError as error:
            if error.status != RPCStatusCode.NOT_FOUND:
                raise
            return {"signalled": False}
        return {"signalled": True}

    async def replan_verification(message: OutboxMessage) -> dict[str, Any]:
        # The responder's due moment was recounted: the workflow reloads its plan. One already finished has
        # nothing to re-plan.
        try:
            await client.get_workflow_handle(message.payload["workflow_id"]).signal(
                VERIFICATION_REPLAN_SIGNAL, rpc_timeout=RPC_TIMEOUT
            )
        except RPCError as error:
            if error.status != RPCStatusCode.NOT_FOUND:
                raise
            return {"signalled": False}
        return {"signalled": True}

    return {
        "case.start": start_case,
        "case.act": act_on_case,
        "case.replan": replan_case,
        "verification.start": start_verification,
        "verification.settle": settle_verification,
        "verification.replan": replan_verification,
    }
