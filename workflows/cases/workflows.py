"""CaseWorkflow: one per case (id from `case_workflow_id`), the source of truth for what happens next and when.

State machine (stages come from the case type; `closed` ends the workflow):

    open/waiting --request_materials--> suspended --materials_received--> open (new due date, new ladder)
    open/waiting --extend (once, supervisor, before the due moment)--> open (due + N working days, new ladder)
    open/waiting --advance--> next stage, open (new stage start, new due date, new ladder)
    any open stage, suspended too --close (outcome) / refuse (reason)--> closed: the workflow completes

While a stage has a running deadline the workflow sleeps (durable timers through `wait_condition` timeouts)
until the next rung of the deadline's ladder and raises it through `cases.raise_alert`: the reminder, the
overdue notice (rung 1), the township supervisor (rung 2), the county supervisor (rung 3); each once. Rungs
whose moment has already passed (a workflow started late, a back-dated action) are raised at once, in order,
except a reminder once the due moment has passed (the overdue notice says more).

Human actions arrive as the Update `act`. The validator refuses what the case's state does not allow before
it enters history; the handler runs under a lock (so updates and alerts never interleave), checks again, and
applies the action through `cases.apply_action`, which re-checks against the case row and returns the new plan.
The update id is the action's `request_id`: Temporal answers a duplicate delivery with the first result, and
the workflow keeps recent answers across continue-as-new for the same purpose.

Deterministic and thin: no I/O, no wall clock, no ORM; time is `workflow.now()`.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from workflows.cases.rules import effective_time, refusal
    from workflows.cases.types import (
        AlertKind,
        AppliedAction,
        ApplyActionInput,
        CaseActionInput,
        CaseActionResult,
        CaseWorkflowInput,
        CaseWorkflowResult,
        CaseWorkflowState,
        DeadlinePlan,
        LoadPlanInput,
        PlannedAlert,
        RaiseAlertInput,
        RaiseAlertResult,
    )

LOAD_PLAN = "cases.load_plan"
RAISE_ALERT = "cases.raise_alert"
APPLY_ACTION = "cases.apply_action"
ACTION_REFUSED = "ActionRefused"
ACTION_FAILED = "ActionFailed"
NON_RETRYABLE = ["CaseNotFound", ACTION_REFUSED, "ExtensionNotAuthorized"]
ACTIVITY_TIMEOUT = timedelta(seconds=30)
# Deadline work and actions are retried until the database answers: an outage delays an alert or an update,
# it never loses one nor turns it into a refusal.
ACTIVITY_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=1),
    non_retryable_error_types=NON_RETRYABLE,
)
ANSWERS_KEPT = 200


@workflow.defn(name="CaseWorkflow")
class CaseWorkflow:
    def __init__(self) -> None:
        self._case: CaseWorkflowInput | None = None
        self._plan: DeadlinePlan | None = None
        self._alerts_done = 0  # rungs of the current plan's ladder already raised (or skipped)
        self._answered: dict[str, CaseActionResult] = {}
        self._revision = 0  # bumped whenever the plan is replaced
        self._replan_requested = False
        self._lock = asyncio.Lock()

    @workflow.run
    async def run(self, case: CaseWorkflowInput) -> CaseWorkflowResult:
        self._case = case
        if case.state is not None:
            self._restore(case.state)
        elif case.plan is not None:
            self._plan = case.plan  # built by the opening transaction: no activity to read it back
        else:
            self._plan = await self._load_plan()
        while not self._current.closed:
            if self._continue_as_new_due():
                await workflow.wait_condition(workflow.all_handlers_finished)
                if self._current.closed:
                    break
                workflow.continue_as_new(case.model_copy(update={"state": self._state()}))
            if self._replan_requested:
                async with self._lock:
                    await self._replan()
                continue
            await self._next_rung()
        await workflow.wait_condition(workflow.all_handlers_finished)
        plan = self._current
        return CaseWorkflowResult(stage=plan.stage, status=plan.status, outcome=plan.outcome)

    # --- the update: human actions ----------------------------------------------------------------------------

    @workflow.update
    async def act(self, action: CaseActionInput) -> CaseActionResult:
        async with self._lock:
            # An action delivered with the start waits for the plan; it still goes before any overdue rung.
            await workflow.wait_condition(lambda: self._plan is not None)
            answered = self._answered.get(action.request_id)
            if answered is not None:
                return answered
            plan = self._current
            effective_at = effective_time(plan, action, workflow.now())
            refused = refusal(plan, action, effective_at)
            if refused is not None:
                raise ApplicationError(refused, type=ACTION_REFUSED, non_retryable=True)
            try:
                applied = await workflow.execute_activity(
                    APPLY_ACTION,
                    ApplyActionInput(
                        tenant_id=self._input.tenant_id,
                        case_id=self._input.case_id,
                        action=action,
                        effective_at=effective_at,
                        now=workflow.now(),
                    ),
                    result_type=AppliedAction,
                    start_to_close_timeout=ACTIVITY_TIMEOUT,
                    retry_policy=ACTIVITY_RETRY,
                )
            except ActivityError as error:
                raise self._update_failure(error) from None
            self._replace_plan(applied.plan)
            result = CaseActionResult(
                stage=applied.plan.stage,
                status=applied.plan.status,
                due_at=applied.plan.due_at,
                message=applied.message,
            )
            self._remember(action.request_id, result)
            return result

    @act.validator
    def validate_act(self, action: CaseActionInput) -> None:
        """Refuse an action the case's state does not allow, before it enters history. Before the plan is
        loaded nothing is known: the handler checks then."""
        if self._plan is None or action.request_id in self._answered:
            return
        refused = refusal(self._plan, action, effective_time(self._plan, action, workflow.now()))
        if refused is not None:
            raise ApplicationError(refused, type=ACTION_REFUSED, non_retryable=True)

    @workflow.signal
    def replan(self) -> None:
        """The case changed outside the workflow (e.g. due dates recounted after a holiday notice): reload the
        plan from the case row."""
        self._replan_requested = True

    @workflow.query
    def deadline_plan(self) -> DeadlinePlan | None:
        """The running deadline and the rungs of its ladder still to come (None until the plan is loaded)."""
        if self._plan is None:
            return None
        return self._plan.model_copy(update={"alerts": self._pending()})

    # --- deadlines ----------------------------------------------------------------------------------------------

    async def _next_rung(self) -> None:
        """Sleep until the next rung is due (or the plan changes) and raise it."""
        plan, revision = self._current, self._revision

        def changed() -> bool:
            return self._revision != revision or self._replan_requested or self._continue_as_new_due()

        pending = self._pending()
        if not pending:
            await workflow.wait_condition(changed)
            return
        rung = pending[0]
        delay = rung.fire_at - workflow.now()
        if delay > timedelta(0):
            try:
                await workflow.wait_condition(
                    changed, timeout=delay, timeout_summary=f"{rung.kind.value} {rung.level} {plan.deadline_key}"
                )
                return
            except TimeoutError:
                pass
        async with self._lock:
            if self._revision == revision:
                await self._raise(plan, rung)

    async def _raise(self, plan: DeadlinePlan, rung: PlannedAlert) -> None:
        if rung.kind is AlertKind.reminder and plan.due_at is not None and workflow.now() >= plan.due_at:
            self._alerts_done += 1  # too late to remind: the overdue notice follows at once
            return
        assert plan.deadline_key is not None and plan.due_at is not None  # a plan with rungs has a deadline
        result = await workflow.execute_activity(
            RAISE_ALERT,
            RaiseAlertInput(
                tenant_id=self._input.tenant_id,
                case_id=self._input.case_id,
                deadline_key=plan.deadline_key,
                due_at=plan.due_at,
                alert=rung,
                now=workflow.now(),
            ),
            result_type=RaiseAlertResult,
            start_to_close_timeout=ACTIVITY_TIMEOUT,
            retry_policy=ACTIVITY_RETRY,
        )
        if not result.current:
            await self._replan()  # the case no longer has this deadline: follow the case row
            return
        self._alerts_done += 1
        if rung.kind is not AlertKind.reminder:
            self._plan = plan.model_copy(
                update={"overdue": True, "escalation_level": max(plan.escalation_level, rung.level)}
            )

    async def _load_plan(self) -> DeadlinePlan:
        return await workflow.execute_activity(
            LOAD_PLAN,
            LoadPlanInput(tenant_id=self._input.tenant_id, case_id=self._input.case_id, now=workflow.now()),
            result_type=DeadlinePlan,
            start_to_close_timeout=ACTIVITY_TIMEOUT,
            retry_policy=ACTIVITY_RETRY,
        )

    async def _replan(self) -> None:
        """Reload the plan from the case row (the caller holds the lock)."""
        self._replan_requested = False
        self._replace_plan(await self._load_plan())

    # --- state ----------------------------------------------------------------------------------------------------

    @property
    def _input(self) -> CaseWorkflowInput:
        assert self._case is not None
        return self._case

    @property
    def _current(self) -> DeadlinePlan:
        assert self._plan is not None
        return self._plan

    def _pending(self) -> list[PlannedAlert]:
        return self._current.alerts[self._alerts_done :]

    def _replace_plan(self, plan: DeadlinePlan) -> None:
        self._plan, self._alerts_done = plan, 0
        self._revision += 1

    def _remember(self, request_id: str, result: CaseActionResult) -> None:
        self._answered[request_id] = result
        while len(self._answered) > ANSWERS_KEPT:
            del self._answered[next(iter(self._answered))]

    def _continue_as_new_due(self) -> bool:
        info = workflow.info()
        limit = self._input.history_limit
        return info.is_continue_as_new_suggested() or (limit is not None and info.get_current_history_length() >= limit)

    def _state(self) -> CaseWorkflowState:
        return CaseWorkflowState(
            plan=self._current,
            alerts_done=self._alerts_done,
            answered=self._answered,
            replan_requested=self._replan_requested,
        )

    def _restore(self, state: CaseWorkflowState) -> None:
        self._plan, self._alerts_done = state.plan, state.alerts_done
        self._answered = dict(state.answered)
        self._replan_requested = state.replan_requested

    def _update_failure(self, error: ActivityError) -> ApplicationError:
        """The update's failure for an activity that failed: a refusal by the case row keeps its message and
        type (and the plan is reloaded, since the case disagreed with it)."""
        cause = error.cause
        if isinstance(cause, ApplicationError):
            if cause.type == ACTION_REFUSED:
                self._replan_requested = True
            return ApplicationError(cause.message, type=cause.type, non_retryable=True)
        return ApplicationError(
            "暂时无法办理，请稍后重试 / the action could not be applied now; try again",
            type=ACTION_FAILED,
            non_retryable=True,
        )
