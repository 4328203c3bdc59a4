"""Inputs and outputs of the platform workflows (plain pydantic models, no ORM)."""

from __future__ import annotations

from pydantic import BaseModel


class TenantChainInput(BaseModel):
    tenant_code: str


class TenantChainResult(BaseModel):
    tenant_code: str
    ok: bool
    events_checked: int
    broken_seq: int | None = None
    problem: str | None = None


class AuditChainCheckResult(BaseModel):
    results: list[TenantChainResult]

    @property
    def broken(self) -> list[TenantChainResult]:
        return [result for result in self.results if not result.ok]
