"""The contract between the API (through the outbox) and VerificationRequestWorkflow: ids, the input, the
deadline plan of a request and the activity payloads. Plain pydantic models, no ORM (imported in the sandbox).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field

from workflows.cases.types import PlannedAlert


def verification_workflow_id(correlation_id: str) -> str:
    """One workflow per request; the id makes a retried start a no-op."""
    return f"verification:{correlation_id}"


class VerificationWorkflowInput(BaseModel):
    """`tenant_id` is the requesting county (the activities scope their transactions to it to read the row)."""

    tenant_id: uuid.UUID
    request_id: uuid.UUID
    correlation_id: str


class VerificationPlan(BaseModel):
    """The responder's deadline as the workflow waits on it: the ladder (reminder, overdue, escalation rungs)
    and the moment an unanswered request expires. `open` is False once the request is settled."""

    open: bool
    answer_due_at: datetime | None = None
    expires_at: datetime | None = None
    alerts: list[PlannedAlert] = Field(default_factory=list)


class VerificationLoadInput(BaseModel):
    tenant_id: uuid.UUID
    request_id: uuid.UUID
    now: datetime


class VerificationAlertInput(BaseModel):
    tenant_id: uuid.UUID
    request_id: uuid.UUID
    alert: PlannedAlert
    now: datetime


class VerificationAlertResult(BaseModel):
    """`raised` False: the alert already existed (a retry). `open` False: the request was settled meanwhile,
    nothing was written and the workflow ends."""

    raised: bool
    open: bool = True


class VerificationExpireInput(BaseModel):
    tenant_id: uuid.UUID
    request_id: uuid.UUID
    now: datetime


class VerificationWorkflowResult(BaseModel):
    state: str
