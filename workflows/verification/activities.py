"""Activities of VerificationRequestWorkflow: the database work of a request's deadline, each in one
transaction scoped to the requesting county (which can always read the row), switching to the deadline side's
county to write its alert and audit event. Idempotent: an alert is inserted at most once per (request, kind,
level); an expiry only turns a pending request expired. Time comes from the workflow (`now`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from temporalio import activity

from backend.core.context import SYSTEM_ACTOR, actor_var
from backend.db.engine import Database
from backend.verification import deadlines
from backend.verification.errors import VerificationNotFound
from workflows.transactions import county_transaction
from workflows.verification.types import (
    VerificationAlertInput,
    VerificationAlertResult,
    VerificationExpireInput,
    VerificationLoadInput,
    VerificationPlan,
)


class VerificationActivities:
    def __init__(self, database: Database) -> None:
        self.database = database

    @activity.defn(name="verification.load_plan")
    async def load_plan(self, request: VerificationLoadInput) -> VerificationPlan:
        actor_var.set(SYSTEM_ACTOR)
        async with county_transaction(self.database, request.tenant_id, not_found=VerificationNotFound) as session:
            return await deadlines.load_plan(session, request)

    @activity.defn(name="verification.raise_alert")
    async def raise_alert(self, request: VerificationAlertInput) -> VerificationAlertResult:
        actor_var.set(SYSTEM_ACTOR)
        async with county_transaction(self.database, request.tenant_id, not_found=VerificationNotFound) as session:
            return await deadlines.raise_alert(session, request)

    @activity.defn(name="verification.expire")
    async def expire(self, request: VerificationExpireInput) -> bool:
        actor_var.set(SYSTEM_ACTOR)
        async with county_transaction(self.database, request.tenant_id, not_found=VerificationNotFound) as session:
            return await deadlines.expire(session, request)

    @property
    def all(self) -> list[Callable[..., Any]]:
        return [self.load_plan, self.raise_alert, self.expire]
