"""Platform foundation: tenants (counties), org tree, tamper-evident audit log.

Revision ID: 0001_platform
Revises:
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from backend.migrations import helpers

revision: str = "0001_platform"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _timestamps() -> list[sa.Column]:
    return [
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "tenants",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("code", sa.String(6), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.Column("version", sa.Integer(), nullable=False, server_default="1"),
        *_timestamps(),
        sa.CheckConstraint("code ~ '^[0-9]{6}$'", name="code_six_digits"),
        sa.UniqueConstraint("code"),
    )
    # Every county may see the list of counties (cross-county routing needs it); only the platform
    # context provisions or changes one.
    op.execute("ALTER TABLE tenants ENABLE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE tenants FORCE ROW LEVEL SECURITY")
    op.execute("CREATE POLICY tenants_read ON tenants FOR SELECT USING (true)")
    op.execute(f"CREATE POLICY tenants_provision ON tenants FOR INSERT WITH CHECK ({helpers.PLATFORM_EXPRESSION})")
    op.execute(
        f"CREATE POLICY tenants_update ON tenants FOR UPDATE USING ({helpers.PLATFORM_EXPRESSION}) "
        f"WITH CHECK ({helpers.PLATFORM_EXPRESSION})"
    )
    helpers.grant_app("tenants", "SELECT, INSERT, UPDATE")

    op.create_table(
        "org_units",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("tenant_id", sa.Uuid(), sa.ForeignKey("tenants.id", ondelete="RESTRICT"), nullable=False),
        sa.Column("code", sa.String(12), nullable=False),
        sa.Column("parent_code", sa.String(12), nullable=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column(
            "kind",
            postgresql.ENUM("county", "township", "town", "subdistrict", "village", "community", name="org_unit_kind"),
            nullable=False,
        ),
        sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.Column("version", sa.Integer(), nullable=False, server_default="1"),
        *_timestamps(),
        sa.CheckConstraint("code ~ '^([0-9]{6}|[0-9]{9}|[0-9]{12})$'", name="code_digits"),
        sa.CheckConstraint(
            "(parent_code IS NULL AND length(code) = 6) OR "
            "(parent_code IS NOT NULL AND starts_with(code, parent_code) AND length(code) > length(parent_code))",
            name="code_under_parent",
        ),
        sa.UniqueConstraint("tenant_id", "code"),
    )
    op.create_index("ix_org_units_tenant_id", "org_units", ["tenant_id"])
    # text_pattern_ops lets `code LIKE '330106001%'` (a subtree) use the index.
    op.execute("CREATE INDEX ix_org_units_code_prefix ON org_units (tenant_id, code text_pattern_ops)")
    helpers.enable_tenant_rls("org_units")
    helpers.grant_app("org_units", "SELECT, INSERT, UPDATE")

    op.create_table(
        "audit_chain_heads",
        sa.Column("tenant_id", sa.Uuid(), sa.ForeignKey("tenants.id", ondelete="RESTRICT"), primary_key=True),
        sa.Column("last_seq", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("last_hash", sa.String(64), nullable=False),
    )
    helpers.enable_tenant_rls("audit_chain_heads")
    helpers.grant_app("audit_chain_heads", "SELECT, INSERT, UPDATE")

    op.create_table(
        "audit_events",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("tenant_id", sa.Uuid(), sa.ForeignKey("tenants.id", ondelete="RESTRICT"), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_kind", sa.String(20), nullable=False),
        sa.Column("actor_id", sa.String(64), nullable=False),
        sa.Column("actor_label", sa.String(100), nullable=False),
        sa.Column("org_unit_code", sa.String(12), nullable=True),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("entity_type", sa.String(64), nullable=False),
        sa.Column("entity_id", sa.String(64), nullable=False),
        sa.Column("changes", postgresql.JSONB(), nullable=False),
        sa.Column("reason", sa.String(500), nullable=True),
        sa.Column("correlation_id", sa.String(64), nullable=True),
        sa.Column("request_id", sa.String(64), nullable=True),
        sa.Column("client_addr", sa.String(64), nullable=True),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.UniqueConstraint("tenant_id", "seq"),
    )
    op.create_index("ix_audit_events_tenant_id", "audit_events", ["tenant_id"])
    op.create_index("ix_audit_events_org_unit_code", "audit_events", ["org_unit_code"])
    op.create_index("ix_audit_events_correlation_id", "audit_events", ["correlation_id"])
    op.create_index("ix_audit_events_entity", "audit_events", ["tenant_id", "entity_type", "entity_id"])
    helpers.enable_tenant_rls("audit_events")
    # Append-only: the application may add and read events, never change or remove one.
    helpers.grant_app("audit_events", "SELECT, INSERT")


def downgrade() -> None:
    for table in ("audit_events", "audit_chain_heads", "org_units"):
        op.drop_table(table)
    op.execute("DROP TYPE IF EXISTS org_unit_kind")
    op.drop_table("tenants")
