"""Activities of the case workflow: every database read and write of a case's deadline clock happens here.

Each takes one input model, opens one transaction scoped to the case's county, and is idempotent: loading a
plan stores only what is missing, an alert is inserted at most once per (case, deadline, kind, level), and an
action whose request id is already in the case's audit trail is not applied twice. Time comes from the
workflow (`now`, `effective_at`), never from the wall clock, so deadlines follow workflow time (and the
time-skipping test server). The audit log's own `occurred_at` stays the real time of writing.

Domain refusals become non-retryable ApplicationErrors whose `type` names them (CaseNotFound, ActionRefused,
ExtensionNotAuthorized); anything else (the database unreachable, a deadlock) is retried by Temporal.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from temporalio import activity
from temporalio.exceptions import ApplicationError

from backend.cases import deadlines
from backend.cases.errors import CaseNotFound
from backend.core.context import SYSTEM_ACTOR, Actor, actor_var, request_id_var
from backend.db.engine import Database
from backend.db.tenancy import set_tenant
from workflows.cases.types import (
    AppliedAction,
    ApplyActionInput,
    DeadlinePlan,
    LoadPlanInput,
    RaiseAlertInput,
    RaiseAlertResult,
)

CASE_NOT_FOUND = "CaseNotFound"


class CaseActivities:
    def __init__(self, database: Database) -> None:
        self.database = database

    @activity.defn(name="cases.load_plan")
    async def load_plan(self, request: LoadPlanInput) -> DeadlinePlan:
        """The plan of the case's current stage; stores its start and due date on the case if not yet."""
        actor_var.set(SYSTEM_ACTOR)
        try:
            async with self.database.sessionmaker() as session, session.begin():
                await set_tenant(session, request.tenant_id)
                return await deadlines.load_plan(session, request.case_id, request.now)
        except CaseNotFound as error:
            raise ApplicationError(str(error), type=CASE_NOT_FOUND, non_retryable=True) from None

    @activity.defn(name="cases.raise_alert")
    async def raise_alert(self, request: RaiseAlertInput) -> RaiseAlertResult:
        """One rung of the ladder: a CaseAlert row and its audit event, at most once."""
        actor_var.set(SYSTEM_ACTOR)
        try:
            async with self.database.sessionmaker() as session, session.begin():
                await set_tenant(session, request.tenant_id)
                return await deadlines.raise_alert(session, request)
        except CaseNotFound as error:
            raise ApplicationError(str(error), type=CASE_NOT_FOUND, non_retryable=True) from None

    @activity.defn(name="cases.apply_action")
    async def apply_action(self, request: ApplyActionInput) -> AppliedAction:
        """A human action on the case row, audited with the sender as actor and the update's request id."""
        sender = request.action.actor
        actor_var.set(Actor(kind=sender.kind, id=sender.id, label=sender.label))
        request_id_var.set(deadlines.audit_request_id(request.action.request_id))
        try:
            async with self.database.sessionmaker() as session, session.begin():
                await set_tenant(session, request.tenant_id)
                return await deadlines.apply_action(session, request)
        except CaseNotFound as error:
            raise ApplicationError(str(error), type=CASE_NOT_FOUND, non_retryable=True) from None
        except deadlines.ActionRefused as refused:
            raise ApplicationError(refused.message, type=type(refused).__name__, non_retryable=True) from None

    @property
    def all(self) -> list[Callable[..., Any]]:
        """The activity callables to register on a worker."""
        return [self.load_plan, self.raise_alert, self.apply_action]
