"""NotificationDeliveryWorkflow: one delivery (a notification through one channel).

    sleep until `due_at` (the person's quiet hours) → send (activity, retried with exponential backoff)
    → on the last failure: mark the row `failed` with the reason (the county admin's list)

Deterministic and thin: no I/O, no wall clock; time is `workflow.now()`.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from workflows.notifications.types import DeliveryFailedInput, DeliveryInput

SEND = "notifications.send"
MARK_FAILED = "notifications.mark_failed"
SEND_TIMEOUT = timedelta(seconds=30)  # an SMTP or HTTP send gives up after 15 s
SEND_ATTEMPTS = 8  # 10 s, 20 s, 40 s ... 10 min apart: about 20 minutes before the row is failed
SEND_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=10),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=10),
    maximum_attempts=SEND_ATTEMPTS,
    non_retryable_error_types=["NotificationNotFound"],
)
MARK_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1))


@workflow.defn(name="NotificationDeliveryWorkflow")
class NotificationDeliveryWorkflow:
    @workflow.run
    async def run(self, delivery: DeliveryInput) -> str:
        wait = delivery.due_at - workflow.now()
        if wait > timedelta(0):
            await workflow.sleep(wait)
        try:
            result: str = await workflow.execute_activity(
                SEND, delivery, start_to_close_timeout=SEND_TIMEOUT, retry_policy=SEND_RETRY, result_type=str
            )
            return result
        except ActivityError as error:
            cause = error.cause
            reason = cause.message if isinstance(cause, ApplicationError) else str(cause or error)
            if isinstance(cause, ApplicationError) and cause.type == "NotificationNotFound":
                return "gone"
        await workflow.execute_activity(
            MARK_FAILED,
            DeliveryFailedInput(tenant_id=delivery.tenant_id, delivery_id=delivery.delivery_id, reason=reason),
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=MARK_RETRY,
        )
        return "failed"
