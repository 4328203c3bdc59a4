"""Identity and authorization: users, role grants, sessions, department API clients, break-glass grants.

Revision ID: 0003_identity
Revises: 0002_calendar
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from backend.migrations import helpers

revision: str = "0003_identity"
down_revision: str | None = "0002_calendar"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _tenant_fk() -> sa.Column:
    return sa.Column("tenant_id", sa.Uuid(), sa.ForeignKey("tenants.id", ondelete="RESTRICT"), nullable=False)


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Uuid(), primary_key=True),
        _tenant_fk(),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("display_name", sa.String(100), nullable=False),
        sa.Column("org_unit_code", sa.String(12), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("failed_login_count", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("password_changed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.UniqueConstraint("tenant_id", "username"),
    )
    op.create_index("ix_users_tenant_id", "users", ["tenant_id"])
    helpers.enable_tenant_rls("users")
    helpers.grant_app("users", "SELECT, INSERT, UPDATE")

    op.create_table(
        "role_grants",
        sa.Column("id", sa.Uuid(), primary_key=True),
        _tenant_fk(),
        sa.Column("subject", sa.String(80), nullable=False),
        sa.Column("role", sa.String(40), nullable=False),
        sa.Column("org_unit_code", sa.String(12), nullable=False),
        sa.Column("granted_by", sa.String(80), nullable=False),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_role_grants_tenant_id", "role_grants", ["tenant_id"])
    op.create_index("ix_role_grants_subject", "role_grants", ["tenant_id", "subject"])
    op.create_index(
        "uq_role_grants_active",
        "role_grants",
        ["tenant_id", "subject", "role", "org_unit_code"],
        unique=True,
        postgresql_where=sa.text("revoked_at IS NULL"),
    )
    helpers.enable_tenant_rls("role_grants")
    # Grants are revoked (revoked_at), never deleted: who could do what, when, stays answerable.
    helpers.grant_app("role_grants", "SELECT, INSERT, UPDATE")

    op.create_table(
        "user_sessions",
        sa.Column("id", sa.Uuid(), primary_key=True),
        _tenant_fk(),
        sa.Column("user_id", sa.Uuid(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("client_addr", sa.String(64), nullable=True),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_index("ix_user_sessions_tenant_id", "user_sessions", ["tenant_id"])
    helpers.enable_tenant_rls("user_sessions")
    helpers.grant_app("user_sessions", "SELECT, INSERT, UPDATE")

    op.create_table(
        "api_clients",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("tenant_id", sa.Uuid(), sa.ForeignKey("tenants.id", ondelete="RESTRICT"), nullable=True),
        sa.Column("client_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("department", sa.String(20), nullable=False),
        sa.Column("scopes", sa.ARRAY(sa.String(40)), nullable=False),
        sa.Column("secret_hash", sa.String(255), nullable=False),
        sa.Column("secret_version", sa.Integer(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("webhook_url", sa.String(500), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.UniqueConstraint("client_id"),
    )
    op.create_index("ix_api_clients_tenant_id", "api_clients", ["tenant_id"])
    # A county's clients are its own rows; instance-wide clients (tenant_id NULL) belong to the platform
    # context. The client id carries the owner (`<county code>-...` or `platform-...`), so the token endpoint
    # can enter the right context before it looks the client up: no bypass of the policy is needed.
    helpers.enable_tenant_rls(
        "api_clients",
        using=f"tenant_id = {helpers.TENANT_EXPRESSION} OR (tenant_id IS NULL AND {helpers.PLATFORM_EXPRESSION})",
    )
    helpers.grant_app("api_clients", "SELECT, INSERT, UPDATE")

    op.create_table(
        "break_glass_grants",
        sa.Column("id", sa.Uuid(), primary_key=True),
        _tenant_fk(),
        sa.Column("user_id", sa.Uuid(), sa.ForeignKey("users.id", ondelete="RESTRICT"), nullable=False),
        sa.Column("org_unit_code", sa.String(12), nullable=False),
        sa.Column("reason", sa.String(500), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_break_glass_grants_tenant_id", "break_glass_grants", ["tenant_id"])
    helpers.enable_tenant_rls("break_glass_grants")
    helpers.grant_app("break_glass_grants", "SELECT, INSERT, UPDATE")


def downgrade() -> None:
    for table in ("break_glass_grants", "api_clients", "user_sessions", "role_grants", "users"):
        op.drop_table(table)
