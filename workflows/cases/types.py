"""The contract between the API (through the outbox) and the case workflow: ids, inputs, update payloads.

Plain pydantic models, no ORM: workflows import this module inside the sandbox.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel


def case_workflow_id(tenant_code: str, case_id: uuid.UUID | str) -> str:
    """One workflow per case; the id makes a retried start a no-op."""
    return f"case:{tenant_code}:{case_id}"


class CaseWorkflowInput(BaseModel):
    tenant_id: uuid.UUID
    tenant_code: str
    case_id: uuid.UUID
    case_number: str


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


class CaseActionInput(BaseModel):
    """A Temporal Update `act`. `request_id` (the outbox message id) is also the update id: a replayed
    delivery is answered with the first result instead of acting twice."""

    request_id: str
    action: CaseAction
    actor: ActorRef
    reason: str | None = None
    outcome: str | None = None
    extension_working_days: int | None = None


class CaseActionResult(BaseModel):
    stage: str
    status: str
    due_at: datetime | None
    message: str = ""
