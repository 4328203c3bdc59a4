"""Notifications (issue #19): one row per person who should act on an event (a case assigned, a verification
request arrived or answered, a deadline reminder or escalation, a department notification awaiting triage), in
that person's county, under forced row-level security; each event notifies each person once (unique dedup key).

Revision ID: 0016_notifications
Revises: 0012_daily_use
Create Date: 2026-12-07 14:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from backend.migrations import helpers

revision: str = "0016_notifications"
down_revision: str | None = "0012_reports"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "notifications",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("tenant_id", sa.Uuid(), sa.ForeignKey("tenants.id", ondelete="RESTRICT"), nullable=False),
        sa.Column("user_id", sa.Uuid(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("dedup_key", sa.String(160), nullable=False),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("link", sa.String(300), nullable=False),
        sa.Column("reference", sa.String(40), nullable=True),
        sa.Column("org_unit_code", sa.String(12), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("tenant_id", "user_id", "dedup_key", name="uq_notifications_tenant_id_user_id_dedup_key"),
    )
    op.create_index("ix_notifications_user_unread", "notifications", ["tenant_id", "user_id", "read_at", "created_at"])
    op.create_index("ix_notifications_tenant_id", "notifications", ["tenant_id"])
    helpers.enable_tenant_rls("notifications")
    helpers.grant_app("notifications", "SELECT, INSERT, UPDATE, DELETE")


def downgrade() -> None:
    op.drop_table("notifications")
