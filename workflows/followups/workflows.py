"""FollowUpSweepWorkflow: open the recurring follow-up cases due today in every county (daily, by schedule).

Thin and deterministic: the day comes from workflow time (China), the counties and the cases from
activities. The rules are state-based ("what should have a case by today"), so a missed day is caught up
by the next sweep and a repeated one opens nothing new. Each run is short (one pass over the counties), so
nothing here needs continue-as-new; the schedule starts a fresh run every day.
"""

from __future__ import annotations

import asyncio
from datetime import date, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from backend.core.clock import china_day
    from workflows.followups.types import (
        CountyFailure,
        FollowUpSweepInput,
        FollowUpSweepResult,
        PlanDueInput,
        PlanDueResult,
    )

PARALLEL_COUNTIES = 4  # a nightly job: enough to finish early, not enough to crowd the database
LIST_TENANTS = "followups.list_tenants"
PLAN_DUE = "followups.plan_due"
LIST_RETRY = RetryPolicy(initial_interval=timedelta(seconds=5), maximum_attempts=5)
PLAN_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=10),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=5),
    maximum_attempts=5,
    # A county's unreadable rule override or an unknown county is not cured by retrying.
    non_retryable_error_types=["InvalidFollowUpRules", "CountyNotFound"],
)


@workflow.defn(name="FollowUpSweep")
class FollowUpSweepWorkflow:
    @workflow.run
    async def run(self, sweep: FollowUpSweepInput) -> FollowUpSweepResult:
        as_of = sweep.as_of or china_day(workflow.now())
        if sweep.tenant_codes is not None:
            tenant_codes = list(dict.fromkeys(sweep.tenant_codes))
        else:
            tenant_codes = await workflow.execute_activity(
                LIST_TENANTS,
                result_type=list[str],
                start_to_close_timeout=timedelta(minutes=1),
                retry_policy=LIST_RETRY,
            )
        result = FollowUpSweepResult(as_of=as_of)
        for start in range(0, len(tenant_codes), PARALLEL_COUNTIES):
            batch = tenant_codes[start : start + PARALLEL_COUNTIES]
            for outcome in await asyncio.gather(*(self._plan(code, as_of) for code in batch)):
                if isinstance(outcome, CountyFailure):
                    result.failed.append(outcome)
                else:
                    result.counties.append(outcome)
        return result

    async def _plan(self, tenant_code: str, as_of: date) -> PlanDueResult | CountyFailure:
        """One county; its failure is reported in the result and does not stop the others."""
        try:
            return await workflow.execute_activity(
                PLAN_DUE,
                PlanDueInput(tenant_code=tenant_code, as_of=as_of),
                result_type=PlanDueResult,
                start_to_close_timeout=timedelta(hours=2),
                heartbeat_timeout=timedelta(minutes=2),
                retry_policy=PLAN_RETRY,
            )
        except ActivityError as error:
            cause = error.cause or error
            workflow.logger.error("follow-up sweep failed for a county", extra={"tenant": tenant_code})
            return CountyFailure(tenant_code=tenant_code, error=f"{type(cause).__name__}: {cause}")
