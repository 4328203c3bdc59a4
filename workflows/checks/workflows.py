"""CheckRoundsWatchWorkflow: one per county and check-round window; sleeps until the window and its grace days are
over, then has its rounds without a result settled (missed, or void) and the second miss in a row escalated.

Thin and deterministic: time is `workflow.now()`; the activity decides from the county's current rules whether the
window is over (a grace changed meanwhile moves the wake-up: the activity answers the new moment and the workflow
sleeps again). A window's watch lives at most a few months and its history is a handful of events: no
continue-as-new.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from workflows.checks.types import CheckRoundsWatchInput, SettleInput, SettleResult

SETTLE = "checks.settle"
MIN_SLEEP = timedelta(seconds=1)
SETTLE_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=5),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=10),
    non_retryable_error_types=["CountyNotFound"],
)


@workflow.defn(name="CheckRoundsWatch")
class CheckRoundsWatchWorkflow:
    @workflow.run
    async def run(self, watch: CheckRoundsWatchInput) -> SettleResult:
        while True:
            result = await workflow.execute_activity(
                SETTLE,
                SettleInput(
                    tenant_id=watch.tenant_id,
                    tenant_code=watch.tenant_code,
                    window_end=watch.window_end,
                    now=workflow.now(),
                ),
                result_type=SettleResult,
                start_to_close_timeout=timedelta(hours=2),
                heartbeat_timeout=timedelta(minutes=2),
                retry_policy=SETTLE_RETRY,
            )
            if result.wait_until is None:
                return result
            await workflow.sleep(max(result.wait_until - workflow.now(), MIN_SLEEP))
