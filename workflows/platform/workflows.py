"""AuditChainCheckWorkflow: verify every county's audit hash chain (run daily by a Temporal schedule)."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from workflows.platform.types import AuditChainCheckResult, TenantChainInput, TenantChainResult

ACTIVITY_RETRY = RetryPolicy(initial_interval=timedelta(seconds=5), maximum_attempts=5)


@workflow.defn(name="AuditChainCheck")
class AuditChainCheckWorkflow:
    @workflow.run
    async def run(self) -> AuditChainCheckResult:
        tenant_codes: list[str] = await workflow.execute_activity(
            "platform.list_tenant_codes",
            result_type=list[str],
            start_to_close_timeout=timedelta(minutes=1),
            retry_policy=ACTIVITY_RETRY,
        )
        results: list[TenantChainResult] = []
        # One county after another: the check is a background job, not worth loading the database for.
        for code in tenant_codes:
            result = await workflow.execute_activity(
                "platform.verify_tenant_chain",
                TenantChainInput(tenant_code=code),
                result_type=TenantChainResult,
                start_to_close_timeout=timedelta(minutes=30),
                retry_policy=ACTIVITY_RETRY,
            )
            results.append(result)
        return AuditChainCheckResult(results=results)
