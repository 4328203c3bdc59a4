"""Activities of the follow-up sweep: all database work happens here, never in the workflow.

`plan_due` is idempotent: it reads what is due, then opens the missing cases in small transactions, each
under the county's follow-up lock and re-checking the follow-up keys (backend/followups/service.py). A retry
after a crash half-way opens only what the first attempt had not committed. Small transactions keep the
county's audit chain (locked by every case opened) free for the people working during the sweep.
"""

from __future__ import annotations

import logging
from datetime import date

from temporalio import activity
from temporalio.exceptions import ApplicationError

from backend.core.context import SYSTEM_ACTOR, actor_var
from backend.db.engine import Database
from backend.db.tenancy import set_tenant
from backend.followups.config import enabled_case_type_codes, enabled_kinds, load_rules
from backend.followups.opening import FollowUpDue, existing_followup_keys, planner_principal
from backend.followups.rules import InvalidFollowUpRules
from backend.followups.service import open_followups, plan_followups
from backend.models import Tenant
from backend.tenants.errors import TenantNotFound
from backend.tenants.service import enter_tenant, list_tenants
from workflows.followups.types import PlanDueInput, PlanDueResult

log = logging.getLogger(__name__)

OPEN_BATCH_SIZE = 50


class FollowUpActivities:
    def __init__(self, database: Database, *, batch_size: int = OPEN_BATCH_SIZE) -> None:
        self.database = database
        self.batch_size = batch_size

    @activity.defn(name="followups.list_tenants")
    async def list_tenants(self) -> list[str]:
        """The codes of the active counties, in code order."""
        async with self.database.sessionmaker() as session, session.begin():
            return [tenant.code for tenant in await list_tenants(session) if tenant.active]

    async def _plan(self, tenant_code: str, as_of: date) -> tuple[Tenant, list[FollowUpDue], int] | None:
        """(county, dues without a case yet, dues in all) or None when the county does no follow-up."""
        async with self.database.sessionmaker() as session, session.begin():
            try:
                tenant = await enter_tenant(session, tenant_code)
            except TenantNotFound:
                raise ApplicationError(
                    f"no county with code {tenant_code}", type="CountyNotFound", non_retryable=True
                ) from None
            if not tenant.active:
                return None
            try:
                rules = await load_rules(session)
            except InvalidFollowUpRules as error:
                log.error("unreadable follow-up rules", extra={"tenant": tenant_code, "problems": error.problems})
                raise ApplicationError(
                    f"county {tenant_code}: follow-up rules unreadable: {error}",
                    type="InvalidFollowUpRules",
                    non_retryable=True,
                ) from None
            if rules is None:
                return None
            kinds = enabled_kinds(rules, await enabled_case_type_codes(session))
            dues = await plan_followups(session, as_of, rules, kinds)
            existing = await existing_followup_keys(session, dues)
        return tenant, [due for due in dues if due.key not in existing], len(dues)

    @activity.defn(name="followups.plan_due")
    async def plan_due(self, plan: PlanDueInput) -> PlanDueResult:
        """Open the follow-up cases due in one county on `as_of` that have none yet; safe to retry."""
        actor_var.set(SYSTEM_ACTOR)
        planned = await self._plan(plan.tenant_code, plan.as_of)
        if planned is None:
            return PlanDueResult(tenant_code=plan.tenant_code, as_of=plan.as_of, enabled=False)
        tenant, pending, due_count = planned
        result = PlanDueResult(
            tenant_code=plan.tenant_code, as_of=plan.as_of, due=due_count, already_open=due_count - len(pending)
        )
        principal = planner_principal(tenant)
        for start in range(0, len(pending), self.batch_size):
            activity.heartbeat(start)
            async with self.database.sessionmaker() as session, session.begin():
                await set_tenant(session, tenant.id)
                outcome = await open_followups(session, principal, pending[start : start + self.batch_size])
            for kind, count in outcome.opened.items():
                result.opened[kind.value] = result.opened.get(kind.value, 0) + count
            result.already_open += outcome.already_open
            result.skipped += outcome.skipped
        log.info(
            "follow-up sweep of a county",
            extra={
                "tenant": plan.tenant_code,
                "as_of": plan.as_of.isoformat(),
                "due": result.due,
                "opened": result.opened_total,
                "skipped": result.skipped,
            },
        )
        return result
