"""Role grants waiting for a second administrator (separation of duties, issue #16): a role that reads personal
data for a user who administers the county (or administration for one who reads personal data) is a request until
another county administrator or the platform operator approves it.

Revision ID: 0012_grant_requests
Revises: 0011_client_context
Create Date: 2026-12-07 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from backend.migrations import helpers

revision: str = "0012_grant_requests"
down_revision: str | None = "0011_client_context"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "role_grant_requests",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("tenant_id", sa.Uuid(), sa.ForeignKey("tenants.id", ondelete="RESTRICT"), nullable=False),
        sa.Column("subject", sa.String(80), nullable=False),
        sa.Column("role", sa.String(40), nullable=False),
        sa.Column("org_unit_code", sa.String(12), nullable=False),
        sa.Column("requested_by", sa.String(80), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decision", sa.String(20), nullable=True),
        sa.Column("decided_by", sa.String(80), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.String(500), nullable=True),
        sa.Column("grant_id", sa.Uuid(), sa.ForeignKey("role_grants.id"), nullable=True),
    )
    op.create_index("ix_role_grant_requests_tenant_id", "role_grant_requests", ["tenant_id"])
    # One pending request per grant: asking twice is answered with the request already waiting.
    op.create_index(
        "uq_role_grant_requests_pending",
        "role_grant_requests",
        ["tenant_id", "subject", "role", "org_unit_code"],
        unique=True,
        postgresql_where=sa.text("decided_at IS NULL"),
    )
    helpers.enable_tenant_rls("role_grant_requests")
    # Decided, never deleted: who asked for which access and who approved it stays answerable.
    helpers.grant_app("role_grant_requests", "SELECT, INSERT, UPDATE")


def downgrade() -> None:
    op.drop_table("role_grant_requests")
