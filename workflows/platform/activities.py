"""Activities of the platform workflows: all database work happens here, never in a workflow."""

from __future__ import annotations

import logging

from temporalio import activity

from backend.audit.service import verify_chain
from backend.db.engine import Database
from backend.tenants.service import enter_tenant, list_tenants
from workflows.platform.types import TenantChainInput, TenantChainResult

log = logging.getLogger(__name__)


class PlatformActivities:
    def __init__(self, database: Database) -> None:
        self.database = database

    @activity.defn(name="platform.list_tenant_codes")
    async def list_tenant_codes(self) -> list[str]:
        async with self.database.sessionmaker() as session, session.begin():
            return [tenant.code for tenant in await list_tenants(session) if tenant.active]

    @activity.defn(name="platform.verify_tenant_chain")
    async def verify_tenant_chain(self, chain_input: TenantChainInput) -> TenantChainResult:
        """Read-only: safe to retry any number of times."""
        async with self.database.sessionmaker() as session, session.begin():
            await enter_tenant(session, chain_input.tenant_code)
            verification = await verify_chain(session)
        if not verification.ok:
            # An operator alert: logged at error level with the exact link, for the log pipeline to page on.
            log.error(
                "audit chain broken",
                extra={
                    "tenant": chain_input.tenant_code,
                    "seq": verification.broken_seq,
                    "problem": verification.problem,
                },
            )
        return TenantChainResult(
            tenant_code=chain_input.tenant_code,
            ok=verification.ok,
            events_checked=verification.events_checked,
            broken_seq=verification.broken_seq,
            problem=verification.problem,
        )
