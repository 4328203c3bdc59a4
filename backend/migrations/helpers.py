"""Building blocks every migration uses for tenancy: grants to the application role and forced RLS.

A new tenant-owned table gets `enable_tenant_rls(table)` and `grant_app(table, ...)` in the migration
that creates it; tests/backend/platform/test_tenancy.py fails if any table with a `tenant_id` column lacks the policy.
"""

from __future__ import annotations

from alembic import op

from backend.config import get_settings

TENANT_EXPRESSION = "NULLIF(current_setting('app.tenant_id', true), '')::uuid"
PLATFORM_EXPRESSION = "current_setting('app.platform', true) = 'on'"


def app_role() -> str:
    config = op.get_context().config
    role = config.attributes.get("app_role") if config is not None else None
    return str(role or get_settings().app_role)


def grant_app(table: str, privileges: str = "SELECT, INSERT, UPDATE, DELETE") -> None:
    op.execute(f'GRANT {privileges} ON TABLE "{table}" TO "{app_role()}"')


def enable_tenant_rls(table: str, *, using: str | None = None) -> None:
    """Rows are visible and writable only inside the transaction's tenant; FORCE applies it to the owner too.

    `using` replaces the default condition for tables that also hold instance-wide rows.
    """
    condition = using or f"tenant_id = {TENANT_EXPRESSION}"
    op.execute(f'ALTER TABLE "{table}" ENABLE ROW LEVEL SECURITY')
    op.execute(f'ALTER TABLE "{table}" FORCE ROW LEVEL SECURITY')
    op.execute(f'CREATE POLICY tenant_isolation ON "{table}" USING ({condition}) WITH CHECK ({condition})')


def disable_tenant_rls(table: str) -> None:
    op.execute(f'DROP POLICY IF EXISTS tenant_isolation ON "{table}"')
    op.execute(f'ALTER TABLE "{table}" NO FORCE ROW LEVEL SECURITY')
    op.execute(f'ALTER TABLE "{table}" DISABLE ROW LEVEL SECURITY')
