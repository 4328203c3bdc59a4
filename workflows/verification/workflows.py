"""VerificationRequestWorkflow: the responder's deadline of one verification request (协查) or notice (通报).

    load plan → for each rung of the ladder (reminder, overdue, township supervisor, county supervisor):
        sleep until it is due, unless the request is settled first (signal `settled`) → raise it
    → sleep until the expiry moment → mark the request expired (it counts against the responder's rates)

Signal `replan` (the responder's county declared or withdrew a holiday, or a State Council notice was imported,
and the stored due moment was recounted): the plan is loaded again and the ladder resumes from it; rungs
already raised are not raised twice (each is unique per request, kind and level). Behind the patch
`verification-replan`: histories recorded before it replay unchanged.

Alerts go to the side whose deadline it is: the responder's county, or the requester's own county when the
responder is not on the platform (the officer chases the letter). The requester's own deadline (send within 7
working days of receiving the materials) is the registration stage of the requester's case and is kept by
CaseWorkflow.

Deterministic and thin: no I/O, no wall clock, no ORM; time is `workflow.now()`.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from workflows.verification.types import (
        VerificationAlertInput,
        VerificationAlertResult,
        VerificationExpireInput,
        VerificationLoadInput,
        VerificationPlan,
        VerificationWorkflowInput,
        VerificationWorkflowResult,
    )

LOAD_PLAN = "verification.load_plan"
RAISE_ALERT = "verification.raise_alert"
EXPIRE = "verification.expire"
ACTIVITY_TIMEOUT = timedelta(seconds=30)
ACTIVITY_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=1),
    non_retryable_error_types=["VerificationNotFound"],
)


REPLAN_PATCH = "verification-replan"


@workflow.defn(name="VerificationRequestWorkflow")
class VerificationRequestWorkflow:
    def __init__(self) -> None:
        self._settled = False
        self._replan = False
        self._replanning = False

    @workflow.run
    async def run(self, request: VerificationWorkflowInput) -> VerificationWorkflowResult:
        plan = await self._load(request)
        self._replanning = workflow.patched(REPLAN_PATCH)
        while True:
            if not plan.open:
                return VerificationWorkflowResult(state="settled")
            result = await self._follow(request, plan)
            if result is not None:
                return result
            # The due moment was recounted: follow the new plan.
            self._replan = False
            plan = await self._load(request)

    async def _load(self, request: VerificationWorkflowInput) -> VerificationPlan:
        plan: VerificationPlan = await workflow.execute_activity(
            LOAD_PLAN,
            VerificationLoadInput(tenant_id=request.tenant_id, request_id=request.request_id, now=workflow.now()),
            result_type=VerificationPlan,
            start_to_close_timeout=ACTIVITY_TIMEOUT,
            retry_policy=ACTIVITY_RETRY,
        )
        return plan

    async def _follow(
        self, request: VerificationWorkflowInput, plan: VerificationPlan
    ) -> VerificationWorkflowResult | None:
        """Raise the plan's rungs and expire; None when a replan interrupted it."""
        for rung in plan.alerts:
            if await self._settled_before(rung.fire_at, f"{rung.kind.value} {rung.level}"):
                return VerificationWorkflowResult(state="settled")
            if self._replanning and self._replan:
                return None
            if plan.answer_due_at is not None and rung.level == 0 and workflow.now() >= plan.answer_due_at:
                continue  # too late to remind: the overdue notice follows at once
            raised = await workflow.execute_activity(
                RAISE_ALERT,
                VerificationAlertInput(
                    tenant_id=request.tenant_id, request_id=request.request_id, alert=rung, now=workflow.now()
                ),
                result_type=VerificationAlertResult,
                start_to_close_timeout=ACTIVITY_TIMEOUT,
                retry_policy=ACTIVITY_RETRY,
            )
            if not raised.open:
                return VerificationWorkflowResult(state="settled")
        if plan.expires_at is not None and await self._settled_before(plan.expires_at, "expiry"):
            return VerificationWorkflowResult(state="settled")
        if self._replanning and self._replan:
            return None
        expired: bool = await workflow.execute_activity(
            EXPIRE,
            VerificationExpireInput(tenant_id=request.tenant_id, request_id=request.request_id, now=workflow.now()),
            result_type=bool,
            start_to_close_timeout=ACTIVITY_TIMEOUT,
            retry_policy=ACTIVITY_RETRY,
        )
        return VerificationWorkflowResult(state="expired" if expired else "settled")

    @workflow.signal
    def settled(self) -> None:
        """The request was answered, rejected or withdrawn: no more alerts."""
        self._settled = True

    @workflow.signal
    def replan(self) -> None:
        """The stored deadline was recounted (calendar change): reload the plan."""
        self._replan = True

    async def _settled_before(self, moment: datetime, summary: str) -> bool:
        """Sleep until `moment` (durable timer), or a replan; True if the request was settled first."""
        delay = moment - workflow.now()
        if delay > timedelta(0):
            try:
                await workflow.wait_condition(
                    lambda: self._settled or (self._replanning and self._replan), timeout=delay, timeout_summary=summary
                )
            except TimeoutError:
                pass
        return self._settled
