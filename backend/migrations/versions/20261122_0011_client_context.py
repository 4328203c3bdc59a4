"""One round trip to authenticate a department client: a function that enters the client's owner context
(its county, or the platform), names the client for the notification tables' policy and returns the client's
row. It runs with the caller's rights (SECURITY INVOKER): every statement inside is under row-level security
exactly as the three statements it replaces were; it only saves the round trips on the intake hot path.

Revision ID: 0011_client_context
Revises: 0010_offplatform_incoming
Create Date: 2026-11-22 20:00:00
"""

from collections.abc import Sequence

from alembic import op

from backend.migrations import helpers

revision: str = "0011_client_context"
down_revision: str | None = "0010_offplatform_incoming"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The owner is the client id's prefix (`<county code>-...` or `platform-...`, backend/clients/service.py).
# An unknown county leaves app.tenant_id empty: the policy then shows no client row, and the caller refuses.
ENTER_CLIENT_CONTEXT = """
CREATE FUNCTION enter_client_context(requested_client_id text)
RETURNS TABLE (
    tenant_code text,
    tenant_id uuid,
    client_id text,
    name text,
    scopes text[],
    secret_version integer,
    revoked boolean
)
LANGUAGE plpgsql
SECURITY INVOKER
SET search_path = public
AS $$
DECLARE
    owner text := split_part(requested_client_id, '-', 1);
    owner_tenant uuid;
BEGIN
    IF owner = 'platform' THEN
        PERFORM set_config('app.platform', 'on', true);
    ELSE
        SELECT t.id INTO owner_tenant FROM tenants t WHERE t.code = owner;
        PERFORM set_config('app.tenant_id', coalesce(owner_tenant::text, ''), true);
    END IF;
    PERFORM set_config('app.api_client', requested_client_id, true);
    RETURN QUERY
        SELECT CASE WHEN owner = 'platform' THEN NULL ELSE owner END,
               c.tenant_id, c.client_id::text, c.name::text, c.scopes::text[], c.secret_version,
               c.revoked_at IS NOT NULL
        FROM api_clients c
        WHERE c.client_id = requested_client_id;
END
$$
"""


def upgrade() -> None:
    op.execute(ENTER_CLIENT_CONTEXT)
    op.execute("REVOKE ALL ON FUNCTION enter_client_context(text) FROM PUBLIC")
    op.execute(f'GRANT EXECUTE ON FUNCTION enter_client_context(text) TO "{helpers.app_role()}"')


def downgrade() -> None:
    op.execute("DROP FUNCTION IF EXISTS enter_client_context(text)")
