"""What the outbox relay does with each kind of message: Temporal calls, each idempotent by its id.

One registry, keyed by `OutboxKind`; each handler receives its kind's validated payload model.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from backend.archive import service as archive
from backend.archive.errors import ArchiveVolumeNotFound
from backend.core.outbox import (
    ActOnCase,
    BuildArchive,
    DeliverNotification,
    NotifyCounty,
    OutboxKind,
    ReplanCase,
    ReplanVerification,
    SettleVerification,
    StartCase,
    StartVerification,
    WatchCheckRounds,
)
from backend.db.engine import Database
from backend.documents.storage import document_storage
from backend.notifications import service as notifications
from backend.notifications.errors import NotificationNotFound
from backend.notifications.schemas import NotificationEvent
from workflows.cases.types import CaseActionInput, CaseActionResult, CaseWorkflowInput, DeadlinePlan, case_workflow_id
from workflows.checks.types import CHECK_ROUNDS_WORKFLOW, CheckRoundsWatchInput, check_rounds_workflow_id
from workflows.notifications.types import DELIVERY_WORKFLOW, DeliveryInput, delivery_workflow_id
from workflows.outbox import Handler, PermanentFailure
from workflows.task_queues import CASES_TASK_QUEUE
from workflows.transactions import county_transaction
from workflows.verification.types import VerificationWorkflowInput, verification_workflow_id

CASE_WORKFLOW = "CaseWorkflow"
CASE_ACT_UPDATE = "act"
CASE_REPLAN_SIGNAL = "replan"
VERIFICATION_WORKFLOW = "VerificationRequestWorkflow"
VERIFICATION_SETTLED_SIGNAL = "settled"
VERIFICATION_REPLAN_SIGNAL = "replan"
RPC_TIMEOUT = timedelta(seconds=10)


def case_handlers(client: Client, *, task_queue: str = CASES_TASK_QUEUE) -> dict[OutboxKind, Handler]:
    """The handler of every kind, bound to a Temporal client (the case and the verification workflows, started
    on `task_queue`)."""

    async def start(workflow: str, workflow_input: Any, workflow_id: str) -> dict[str, Any]:
        # Exactly one workflow per case or request, however often the start is delivered: USE_EXISTING finds
        # the running workflow, REJECT_DUPLICATE refuses a new run after it has finished (a relay killed before
        # its commit delivers the start again, perhaps after a quick case has already closed).
        try:
            handle = await client.start_workflow(
                workflow,
                workflow_input,
                id=workflow_id,
                task_queue=task_queue,
                id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                rpc_timeout=RPC_TIMEOUT,
                # When this client is the one a local worker of `task_queue` polls on (the worker's relay), the
                # first workflow task comes back with the start's answer instead of through a poll.
                request_eager_start=True,
            )
        except WorkflowAlreadyStartedError:
            return {"workflow_id": workflow_id, "already_finished": True}
        return {"workflow_id": handle.id, "run_id": handle.result_run_id}

    async def signal_if_running(workflow_id: str, signal: str) -> dict[str, Any]:
        # A workflow already finished (it expired the request, or was never started) has nothing to stop or
        # re-plan.
        try:
            await client.get_workflow_handle(workflow_id).signal(signal, rpc_timeout=RPC_TIMEOUT)
        except RPCError as error:
            if error.status != RPCStatusCode.NOT_FOUND:
                raise
            return {"signalled": False}
        return {"signalled": True}

    async def start_case(payload: StartCase) -> dict[str, Any]:
        try:
            plan = DeadlinePlan.model_validate(payload.plan) if payload.plan is not None else None
        except ValueError as error:
            raise PermanentFailure(f"unreadable plan: {error}") from None
        workflow_input = CaseWorkflowInput(
            tenant_id=payload.tenant_id,
            tenant_code=payload.tenant_code,
            case_id=payload.case_id,
            case_number=payload.case_number,
            plan=plan,
        )
        return await start(CASE_WORKFLOW, workflow_input, case_workflow_id(payload.tenant_code, payload.case_id))

    async def act_on_case(payload: ActOnCase) -> dict[str, Any]:
        try:
            action = CaseActionInput.model_validate(payload.action)
        except ValueError as error:
            raise PermanentFailure(f"unreadable action: {error}") from None
        handle = client.get_workflow_handle(payload.workflow_id)
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
            # Its reason as the workflow gave it ("中文 / English"), which the case page shows.
            cause = failure.cause
            raise PermanentFailure(
                cause.message if isinstance(cause, ApplicationError) else str(cause or failure)
            ) from None
        except RPCError:
            raise  # Temporal unreachable, or the workflow not started yet: retried with backoff
        return result.model_dump(mode="json")

    async def replan_case(payload: ReplanCase) -> dict[str, Any]:
        # The calendar changed under a running deadline: the workflow reloads its plan from the database.
        await client.get_workflow_handle(payload.workflow_id).signal(CASE_REPLAN_SIGNAL, rpc_timeout=RPC_TIMEOUT)
        return {"signalled": True}

    async def start_verification(payload: StartVerification) -> dict[str, Any]:
        workflow_input = VerificationWorkflowInput(
            tenant_id=payload.tenant_id, request_id=payload.request_id, correlation_id=payload.correlation_id
        )
        return await start(VERIFICATION_WORKFLOW, workflow_input, verification_workflow_id(payload.correlation_id))

    async def settle_verification(payload: SettleVerification) -> dict[str, Any]:
        # Answered, rejected or withdrawn: the workflow stops its timers.
        return await signal_if_running(payload.workflow_id, VERIFICATION_SETTLED_SIGNAL)

    async def replan_verification(payload: ReplanVerification) -> dict[str, Any]:
        # The responder's due moment was recounted: the workflow reloads its plan.
        return await signal_if_running(payload.workflow_id, VERIFICATION_REPLAN_SIGNAL)

    async def watch_check_rounds(payload: WatchCheckRounds) -> dict[str, Any]:
        workflow_input = CheckRoundsWatchInput(
            tenant_id=payload.tenant_id, tenant_code=payload.tenant_code, window_end=payload.window_end
        )
        workflow_id = check_rounds_workflow_id(payload.tenant_code, payload.window_end)
        return await start(CHECK_ROUNDS_WORKFLOW, workflow_input, workflow_id)

    async def deliver_notification(payload: DeliverNotification) -> dict[str, Any]:
        # One workflow per delivery and round: a start delivered twice finds the same workflow.
        workflow_input = DeliveryInput(
            tenant_id=payload.tenant_id, delivery_id=payload.delivery_id, due_at=payload.due_at
        )
        # A daily digest's deliveries share one workflow (and message): its batch's.
        workflow_id = delivery_workflow_id(payload.digest_of or payload.idempotency_key, payload.round)
        return await start(DELIVERY_WORKFLOW, workflow_input, workflow_id)

    return {
        OutboxKind.case_start: start_case,
        OutboxKind.case_act: act_on_case,
        OutboxKind.case_replan: replan_case,
        OutboxKind.verification_start: start_verification,
        OutboxKind.verification_settle: settle_verification,
        OutboxKind.verification_replan: replan_verification,
        OutboxKind.check_rounds_watch: watch_check_rounds,
        OutboxKind.notification_deliver: deliver_notification,
    }


def notification_handlers(database: Database) -> dict[OutboxKind, Handler]:
    """The handlers that write to the database rather than call Temporal: another county's notifications."""

    async def notify_county(payload: NotifyCounty) -> dict[str, Any]:
        try:
            event = NotificationEvent.model_validate(payload.event)
        except ValueError as error:
            raise PermanentFailure(f"unreadable notification event: {error}") from None
        async with county_transaction(database, payload.tenant_id, not_found=NotificationNotFound) as session:
            written = await notifications.fan_out(session, event)
        return {"notified": written}

    return {OutboxKind.notification_county: notify_county}


def archive_handlers(database: Database) -> dict[OutboxKind, Handler]:
    """Binding a yearly archive volume (P26): a long job in the worker, never in the request. Idempotent (a built
    volume is left as it is); a failure before commit stores nothing the next attempt would meet (fresh keys)."""

    async def build_archive(payload: BuildArchive) -> dict[str, Any]:
        storage = await document_storage()
        async with county_transaction(database, payload.tenant_id, not_found=ArchiveVolumeNotFound) as session:
            volume = await archive.build_volume(session, payload.volume_id, storage)
            return {"state": volume.state, "cases": volume.case_count, "documents": volume.document_count}

    return {OutboxKind.archive_build: build_archive}
