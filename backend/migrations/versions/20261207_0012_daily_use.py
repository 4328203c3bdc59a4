"""Daily use (issue #17): a user may be made to choose a new password at her next sign-in (after an administrator
reset it), and a form's one-time token is kept so that a double submit issues once (`form_submissions`).

Revision ID: 0012_daily_use
Revises: 0011_client_context
Create Date: 2026-12-07 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from backend.migrations import helpers

revision: str = "0012_daily_use"
down_revision: str | None = "0015_notify_new_work"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("users", sa.Column("must_change_password", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_table(
        "form_submissions",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("tenant_id", sa.Uuid(), sa.ForeignKey("tenants.id", ondelete="RESTRICT"), nullable=False),
        sa.Column("token", sa.Uuid(), nullable=False),
        sa.Column("subject", sa.String(80), nullable=False),
        sa.Column("purpose", sa.String(120), nullable=False),
        sa.Column("done_url", sa.String(300), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("tenant_id", "token", name="uq_form_submissions_tenant_id_token"),
    )
    op.create_index("ix_form_submissions_tenant_id", "form_submissions", ["tenant_id"])
    helpers.enable_tenant_rls("form_submissions")
    helpers.grant_app("form_submissions", "SELECT, INSERT, UPDATE")


def downgrade() -> None:
    op.drop_table("form_submissions")
    op.drop_column("users", "must_change_password")
