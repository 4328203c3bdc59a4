"""The contract between the API (through the outbox) and the case workflow: ids, inputs, update payloads, and
the deadline plan the workflow's activities compute and the workflow waits on.

Plain pydantic models, no ORM: workflows import this module inside the sandbox (passed through, like the pure
`backend.core.divisions`).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from pydantic import BaseModel, Field

from backend.core.divisions import county_of


def case_workflow_id(tenant_code: str, case_id: uuid.UUID | str) -> str:
    """One workflow per case; the id makes a retried start a no-op."""
    return f"case:{tenant_code}:{case_id}"


class PlacedCase(Protocol):
    """What names a case's workflow: its id and its unit (a `backend.models.Case`, without importing the ORM)."""

    @property
    def id(self) -> uuid.UUID: ...

    @property
    def org_unit_code(self) -> str: ...


def case_workflow_id_for(case: PlacedCase) -> str:
    """The workflow id of a stored case (its county, from its unit's code, and its id)."""
    return case_workflow_id(county_of(case.org_unit_code), case.id)


# Stage, status and outcome values as the database spells them (backend.models.CaseStage / CaseStatus /
# CaseOutcome); the sandbox may not import the ORM, so the few the workflow needs are repeated here and a
# test keeps the two in step.
CLOSED_STAGE = "closed"
SUSPENDED_STATUS = "suspended"
CASE_OUTCOMES = frozenset({"registered", "deferred", "refused", "completed", "withdrawn", "no_action"})
OUTCOMES_NEEDING_REASON = frozenset({"refused", "deferred"})
MAX_EXTENSION_WORKING_DAYS = 30  # the API schema uses the same bound
DEFAULT_EXTENSION_WORKING_DAYS = 5


class ActorRef(BaseModel):
    """Who sent a human action (carried into the audit events the workflow's activities write)."""

    kind: str
    id: str
    label: str


class CaseAction(StrEnum):
    advance = "advance"  # 提交/核实/审批: finish the current stage, go to the next one of the type
    request_materials = "request_materials"  # 补正: materials missing, the clock is suspended
    materials_received = "materials_received"  # 补正完成: the clock resumes with the remaining budget
    extend = "extend"  # 延期: once per case, approved by a supervisor, refused once overdue
    refuse = "refuse"  # 不予办理: close with a written reason
    close = "close"  # 办结 with an outcome
    sign = "sign"  # 签字: one step of the type's maker-checker chain; the stage's last step moves the case on


class SignoffInput(BaseModel):
    """The step a `sign` action signs, and the signer's own note (the words attested come from the case type)."""

    step: str
    note: str | None = None


class CaseActionInput(BaseModel):
    """A Temporal Update `act`. `request_id` (the outbox message id) is also the update id: a replayed
    delivery is answered with the first result instead of acting twice.

    `requested_at` is when the person took the action (the outbox message's creation time). The deadline
    clock uses it, so a delivery delayed by an outage neither eats into nor adds to the budget: a 补正
    recorded on Friday stops the clock on Friday. The workflow clamps it between the start of the running
    clock and its own current time; without it the workflow's current time is used.
    """

    request_id: str
    action: CaseAction
    actor: ActorRef
    reason: str | None = None
    outcome: str | None = None
    extension_working_days: int | None = None
    requested_at: datetime | None = None
    signoff: SignoffInput | None = None


class CaseActionResult(BaseModel):
    stage: str
    status: str
    due_at: datetime | None
    message: str = ""


# --- the deadline plan -------------------------------------------------------------------------------------


class AlertKind(StrEnum):
    """What a CaseAlert announces; with the level it is the rung of the deadline's ladder."""

    reminder = "reminder"  # level 0: the due date is near (default 2 working days before), to the assignee
    overdue = "overdue"  # level 1: the due moment has passed, to the assignee; the case is marked overdue
    escalation = "escalation"  # level 2: township supervisor; level 3: county supervisor


class PlannedAlert(BaseModel):
    """One rung of a deadline's ladder: `kind`/`level` raised at `fire_at`."""

    kind: AlertKind
    level: int
    fire_at: datetime


class DeadlinePlan(BaseModel):
    """The case as the workflow needs it to decide what happens next, and the alerts it waits for.

    Computed by the activities from the case row (backend/cases/deadlines.py). `deadline_key` names the
    running deadline (stage, moment the stage began, due date): alerts are unique per key, kind and level, so
    a re-planned deadline (resumed clock, extension, next stage) gets a ladder of its own and the same
    deadline never alerts twice. `alerts` is the whole ladder in firing order; it is empty for a stage
    without a deadline rule, a suspended clock and a closed case.
    """

    stage: str
    status: str
    next_stage: str | None = None
    outcome: str | None = None
    stage_started_at: datetime | None = None
    deadline_key: str | None = None
    due_at: datetime | None = None
    due_provisional: bool = False
    reminder_working_days: int = 2
    suspended_at: datetime | None = None
    remaining_working_days: int | None = None
    extension_used: bool = False
    overdue: bool = False
    escalation_level: int = 0
    alerts: list[PlannedAlert] = Field(default_factory=list)
    # The signature step the running stage waits for (the type's maker-checker chain), if any: the stage moves
    # only by its signatures, and the deadline is the step's.
    signoff_step: str | None = None

    @property
    def closed(self) -> bool:
        return self.stage == CLOSED_STAGE

    @property
    def suspended(self) -> bool:
        return self.status == SUSPENDED_STATUS

    @property
    def reminder_at(self) -> datetime | None:
        return next((alert.fire_at for alert in self.alerts if alert.kind is AlertKind.reminder), None)


# --- activity inputs and outputs -----------------------------------------------------------------------------


class LoadPlanInput(BaseModel):
    """`now` is the workflow's time: activities never read the wall clock for a domain decision."""

    tenant_id: uuid.UUID
    case_id: uuid.UUID
    now: datetime


class RaiseAlertInput(BaseModel):
    tenant_id: uuid.UUID
    case_id: uuid.UUID
    deadline_key: str
    due_at: datetime
    alert: PlannedAlert
    now: datetime


class RaiseAlertResult(BaseModel):
    """`raised` is False when the alert already existed (a retried activity, a replayed workflow); `current`
    is False when the case no longer has this deadline (changed outside the workflow): nothing was written
    and the workflow reloads its plan."""

    raised: bool
    current: bool = True


class ApplyActionInput(BaseModel):
    """`effective_at` is the moment the action takes effect on the clock (see CaseActionInput.requested_at)."""

    tenant_id: uuid.UUID
    case_id: uuid.UUID
    action: CaseActionInput
    effective_at: datetime
    now: datetime


class AppliedAction(BaseModel):
    """The plan after the action. `replayed` is True when the action had already been applied (a retry)."""

    plan: DeadlinePlan
    message: str
    replayed: bool = False


# --- the workflow's input, carried state and result ----------------------------------------------------------


class CaseWorkflowState(BaseModel):
    """What a run hands to the next one on continue-as-new."""

    plan: DeadlinePlan
    alerts_done: int = 0
    answered: dict[str, CaseActionResult] = Field(default_factory=dict)
    replan_requested: bool = False


class CaseWorkflowInput(BaseModel):
    tenant_id: uuid.UUID
    tenant_code: str
    case_id: uuid.UUID
    case_number: str
    # The first plan, built by the transaction that opened the case (the relay passes it on): the workflow starts
    # waiting on it at once. Without it (and without `state`) the first activity reads it from the case row.
    plan: DeadlinePlan | None = None
    # Set only by continue-as-new: the state of the previous run.
    state: CaseWorkflowState | None = None
    # Continue as new once the history holds this many events (besides when Temporal suggests it).
    history_limit: int | None = None


class CaseWorkflowResult(BaseModel):
    stage: str
    status: str
    outcome: str | None
