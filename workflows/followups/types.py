"""Inputs and outputs of the follow-up sweep and its activities (plain pydantic models, no ORM).

Workflows import this module inside the sandbox.
"""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field


class FollowUpSweepInput(BaseModel):
    """A sweep: the schedule sends it empty (today in China, every active county).

    `as_of` replans a given day (an operator catching up, a test); `tenant_codes` limits the sweep to some
    counties. Both are optional so that fields can be added without breaking the schedule's stored input.
    """

    as_of: date | None = None
    tenant_codes: list[str] | None = None


class PlanDueInput(BaseModel):
    """Plan one county for `as_of` and open what is due."""

    tenant_code: str
    as_of: date


class PlanDueResult(BaseModel):
    tenant_code: str
    as_of: date
    enabled: bool = True
    due: int = 0
    opened: dict[str, int] = Field(default_factory=dict)  # follow-up kind -> cases opened now
    already_open: int = 0
    skipped: int = 0

    @property
    def opened_total(self) -> int:
        return sum(self.opened.values())


class CountyFailure(BaseModel):
    tenant_code: str
    error: str


class FollowUpSweepResult(BaseModel):
    as_of: date
    counties: list[PlanDueResult] = Field(default_factory=list)
    failed: list[CountyFailure] = Field(default_factory=list)

    def for_county(self, tenant_code: str) -> PlanDueResult | None:
        return next((county for county in self.counties if county.tenant_code == tenant_code), None)
