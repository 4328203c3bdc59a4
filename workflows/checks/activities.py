"""The watch's activity: decide whether a window is over and settle it in small transactions (safe to retry: a
settled round is not settled again, and a home visit opens once per key)."""

from __future__ import annotations

import logging

from temporalio import activity
from temporalio.exceptions import ApplicationError

from backend.checks.settlement import settle_batch, settles_at
from backend.core.context import SYSTEM_ACTOR, actor_var
from backend.db.engine import Database
from backend.db.tenancy import set_tenant
from backend.followups.config import rules_or_defaults
from backend.followups.opening import planner_principal
from backend.tenants.errors import TenantNotFound
from backend.tenants.service import enter_tenant
from workflows.checks.types import SettleInput, SettleResult

log = logging.getLogger(__name__)


class CheckActivities:
    def __init__(self, database: Database) -> None:
        self.database = database

    @activity.defn(name="checks.settle")
    async def settle(self, request: SettleInput) -> SettleResult:
        """Settle the window's rounds still due if the window and its grace days are over at `now`; otherwise say
        when they will be."""
        actor_var.set(SYSTEM_ACTOR)
        async with self.database.sessionmaker() as session, session.begin():
            try:
                tenant = await enter_tenant(session, request.tenant_code)
            except TenantNotFound:
                raise ApplicationError(
                    f"no county with code {request.tenant_code}", type="CountyNotFound", non_retryable=True
                ) from None
            rules = await rules_or_defaults(session)
        moment = settles_at(request.window_end, rules)
        result = SettleResult(window_end=request.window_end)
        if request.now < moment:
            result.wait_until = moment
            return result
        principal = planner_principal(tenant)
        remaining, batches = True, 0
        while remaining:
            activity.heartbeat(batches)
            async with self.database.sessionmaker() as session, session.begin():
                await set_tenant(session, tenant.id)
                outcome = await settle_batch(session, principal, request.window_end, request.now, rules)
            result.missed += outcome.missed
            result.void += outcome.void
            result.escalated += outcome.escalated
            remaining, batches = outcome.remaining, batches + 1
        log.info(
            "check-round window settled",
            extra={
                "tenant": request.tenant_code,
                "window_end": request.window_end.isoformat(),
                "missed": result.missed,
                "void": result.void,
                "escalated": result.escalated,
            },
        )
        return result
