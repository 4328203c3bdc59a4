"""Inputs and outputs of the check-round window watch (plain pydantic models, no ORM); imported in the sandbox."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import BaseModel

CHECK_ROUNDS_WORKFLOW = "CheckRoundsWatch"


def check_rounds_workflow_id(tenant_code: str, window_end: date) -> str:
    """One watch per county and window."""
    return f"check-rounds:{tenant_code}:{window_end.isoformat()}"


class CheckRoundsWatchInput(BaseModel):
    tenant_id: uuid.UUID
    tenant_code: str
    window_end: date


class SettleInput(BaseModel):
    """Settle the window if it is over at `now` (workflow time)."""

    tenant_id: uuid.UUID
    tenant_code: str
    window_end: date
    now: datetime


class SettleResult(BaseModel):
    """`wait_until` when the window (with its grace days) is not over yet; otherwise what the settlement did."""

    window_end: date
    wait_until: datetime | None = None
    missed: int = 0
    void: int = 0
    escalated: int = 0
