"""Case workflows: the transactional outbox, case alerts (reminders, overdue, escalation rungs) and the
deadline clock of each case.

Revision ID: 0005_workflows
Revises: 0004_registry
Create Date: 2026-11-22 14:13:18.579667
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from backend.migrations import helpers

revision: str = "0005_workflows"
down_revision: str | None = "0004_registry"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "outbox_messages",
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("payload", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("available_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("result", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_outbox_messages_tenant_id_tenants"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_messages")),
    )
    op.create_index(
        "ix_outbox_messages_pending",
        "outbox_messages",
        ["tenant_id", "available_at"],
        unique=False,
        postgresql_where="processed_at IS NULL",
    )
    op.create_index(op.f("ix_outbox_messages_tenant_id"), "outbox_messages", ["tenant_id"], unique=False)
    op.create_table(
        "case_alerts",
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("deadline_key", sa.String(length=80), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("recipient_unit_code", sa.String(length=12), nullable=False),
        sa.Column("recipient_role", sa.String(length=40), nullable=True),
        sa.Column("recipient_user_id", sa.Uuid(), nullable=True),
        sa.Column("message", sa.String(length=300), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_case_alerts_case_id_cases"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["recipient_user_id"],
            ["users.id"],
            name=op.f("fk_case_alerts_recipient_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_case_alerts_tenant_id_tenants"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_alerts")),
        sa.UniqueConstraint(
            "case_id", "deadline_key", "kind", "level", name=op.f("uq_case_alerts_case_id_deadline_key_kind_level")
        ),
    )
    op.create_index(op.f("ix_case_alerts_case_id"), "case_alerts", ["case_id"], unique=False)
    op.create_index(op.f("ix_case_alerts_recipient_unit_code"), "case_alerts", ["recipient_unit_code"], unique=False)
    op.create_index(op.f("ix_case_alerts_tenant_id"), "case_alerts", ["tenant_id"], unique=False)
    op.add_column("cases", sa.Column("stage_started_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("cases", sa.Column("suspended_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("cases", sa.Column("remaining_working_days", sa.Integer(), nullable=True))
    op.add_column("cases", sa.Column("extension_used", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.add_column("cases", sa.Column("escalation_level", sa.Integer(), nullable=False, server_default="0"))

    for table in ("outbox_messages", "case_alerts"):
        helpers.enable_tenant_rls(table)
    # Outbox rows are marked processed, never deleted by the application (a retention job may prune them).
    helpers.grant_app("outbox_messages", "SELECT, INSERT, UPDATE")
    helpers.grant_app("case_alerts", "SELECT, INSERT, UPDATE")


def downgrade() -> None:
    op.drop_column("cases", "escalation_level")
    op.drop_column("cases", "extension_used")
    op.drop_column("cases", "remaining_working_days")
    op.drop_column("cases", "suspended_at")
    op.drop_column("cases", "stage_started_at")
    op.drop_index(op.f("ix_case_alerts_tenant_id"), table_name="case_alerts")
    op.drop_index(op.f("ix_case_alerts_recipient_unit_code"), table_name="case_alerts")
    op.drop_index(op.f("ix_case_alerts_case_id"), table_name="case_alerts")
    op.drop_table("case_alerts")
    op.drop_index(op.f("ix_outbox_messages_tenant_id"), table_name="outbox_messages")
    op.drop_index("ix_outbox_messages_pending", table_name="outbox_messages", postgresql_where="processed_at IS NULL")
    op.drop_table("outbox_messages")
