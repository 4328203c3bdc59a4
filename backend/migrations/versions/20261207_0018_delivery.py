"""Notification delivery (issue #19): per-user channel preferences, per-county channel settings (secrets as
ciphertext), one delivery row per (notification, channel) with a unique idempotency key; all under forced
row-level security.

Revision ID: 0018_delivery
Revises: 0016_notifications
Create Date: 2026-12-07 16:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from backend.migrations import helpers

revision: str = "0018_delivery"
down_revision: str | None = "0020_data_review"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _tenant() -> sa.Column[object]:
    return sa.Column("tenant_id", sa.Uuid(), sa.ForeignKey("tenants.id", ondelete="RESTRICT"), nullable=False)


def upgrade() -> None:
    op.create_table(
        "notification_preferences",
        sa.Column("id", sa.Uuid(), primary_key=True),
        _tenant(),
        sa.Column("user_id", sa.Uuid(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("channels", postgresql.JSONB(), nullable=False),
        sa.Column("email", sa.String(254), nullable=True),
        sa.Column("phone_ciphertext", sa.LargeBinary(), nullable=True),
        sa.Column("quiet_start", sa.Time(), nullable=True),
        sa.Column("quiet_end", sa.Time(), nullable=True),
        sa.Column("digest", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("tenant_id", "user_id", name="uq_notification_preferences_tenant_id_user_id"),
    )
    op.create_table(
        "delivery_settings",
        sa.Column("id", sa.Uuid(), primary_key=True),
        _tenant(),
        sa.Column("settings", postgresql.JSONB(), nullable=False),
        sa.Column("secrets_ciphertext", sa.LargeBinary(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("tenant_id", name="uq_delivery_settings_tenant_id"),
    )
    op.create_table(
        "notification_deliveries",
        sa.Column("id", sa.Uuid(), primary_key=True),
        _tenant(),
        sa.Column("notification_id", sa.Uuid(), sa.ForeignKey("notifications.id", ondelete="CASCADE"), nullable=False),
        sa.Column("user_id", sa.Uuid(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("idempotency_key", sa.String(80), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("digest", sa.Boolean(), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(500), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("idempotency_key", name="uq_notification_deliveries_idempotency_key"),
        sa.UniqueConstraint(
            "tenant_id", "notification_id", "channel", name="uq_notification_deliveries_tenant_id_notification_channel"
        ),
    )
    op.create_index(
        "ix_notification_deliveries_status", "notification_deliveries", ["tenant_id", "status", "created_at"]
    )
    for table in ("notification_preferences", "delivery_settings", "notification_deliveries"):
        op.create_index(f"ix_{table}_tenant_id", table, ["tenant_id"])
        helpers.enable_tenant_rls(table)
        helpers.grant_app(table, "SELECT, INSERT, UPDATE, DELETE")


def downgrade() -> None:
    for table in ("notification_deliveries", "delivery_settings", "notification_preferences"):
        op.drop_table(table)
