"""Department intake: notifications (platform-side, visible to the submitting client, the routed county and
the platform context), the county's triage copies, webhook subscriptions and deliveries.

Revision ID: 0008_intake
Revises: 0005_workflows
Create Date: 2026-11-22 16:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from backend.migrations import helpers

revision: str = "0008_intake"
down_revision: str | None = "0007_verification"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CLIENT_EXPRESSION = "client_id = NULLIF(current_setting('app.api_client', true), '')"


def upgrade() -> None:
    op.create_table(
        "intake_notifications",
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("department", sa.String(length=20), nullable=False),
        sa.Column("notification_type", sa.String(length=40), nullable=False),
        sa.Column("schema_version", sa.Integer(), nullable=False),
        sa.Column("transaction_id", sa.String(length=64), nullable=False),
        sa.Column("idempotency_key", sa.String(length=100), nullable=True),
        sa.Column("payload_encrypted", sa.LargeBinary(), nullable=False),
        sa.Column("payload_digest", sa.String(length=64), nullable=False),
        sa.Column("division_code", sa.String(length=12), nullable=False),
        sa.Column("county_code", sa.String(length=6), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("routed_tenant_id", sa.Uuid(), nullable=True),
        sa.Column("township_code", sa.String(length=9), nullable=True),
        sa.Column("case_id", sa.Uuid(), nullable=True),
        sa.Column("case_number", sa.String(length=40), nullable=True),
        sa.Column("rejection_reason", sa.Text(), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("available_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("routed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("route_attempts", sa.Integer(), nullable=False),
        sa.Column("route_error", sa.Text(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["routed_tenant_id"],
            ["tenants.id"],
            name=op.f("fk_intake_notifications_routed_tenant_id_tenants"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_intake_notifications")),
        sa.UniqueConstraint(
            "client_id", "transaction_id", name=op.f("uq_intake_notifications_client_id_transaction_id")
        ),
    )
    op.create_index(
        "ix_intake_notifications_pending",
        "intake_notifications",
        ["available_at"],
        unique=False,
        postgresql_where="status = 'received'",
    )
    op.create_index(
        "ix_intake_notifications_client_received", "intake_notifications", ["client_id", "received_at"], unique=False
    )
    op.create_index(
        "ix_intake_notifications_routed_tenant_id", "intake_notifications", ["routed_tenant_id"], unique=False
    )
    # Three parties see a notification: the client that sent it, the county it was routed to, and the
    # platform context (the router in the worker, platform admins' holding queue). See ADR 0008.
    helpers.enable_tenant_rls(
        "intake_notifications",
        using=(
            f"{helpers.PLATFORM_EXPRESSION} OR {CLIENT_EXPRESSION} OR routed_tenant_id = {helpers.TENANT_EXPRESSION}"
        ),
    )
    helpers.grant_app("intake_notifications", "SELECT, INSERT, UPDATE")

    op.create_table(
        "intake_triages",
        sa.Column("notification_id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("notification_type", sa.String(length=40), nullable=False),
        sa.Column("department", sa.String(length=20), nullable=False),
        sa.Column("payload_encrypted", sa.LargeBinary(), nullable=False),
        sa.Column("matches", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("verified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("verified_by", sa.String(length=100), nullable=True),
        sa.Column("decision", sa.String(length=20), nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.String(length=100), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_intake_triages_case_id_cases"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_intake_triages_tenant_id_tenants"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_intake_triages")),
        sa.UniqueConstraint("notification_id", name=op.f("uq_intake_triages_notification_id")),
    )
    op.create_index(op.f("ix_intake_triages_tenant_id"), "intake_triages", ["tenant_id"], unique=False)
    helpers.enable_tenant_rls("intake_triages")
    helpers.grant_app("intake_triages", "SELECT, INSERT, UPDATE")

    op.create_table(
        "intake_webhook_subscriptions",
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=False),
        sa.Column("secret_encrypted", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_intake_webhook_subscriptions")),
        sa.UniqueConstraint("client_id", name=op.f("uq_intake_webhook_subscriptions_client_id")),
    )
    helpers.enable_tenant_rls(
        "intake_webhook_subscriptions", using=f"{helpers.PLATFORM_EXPRESSION} OR {CLIENT_EXPRESSION}"
    )
    helpers.grant_app("intake_webhook_subscriptions", "SELECT, INSERT, UPDATE, DELETE")

    op.create_table(
        "intake_webhook_deliveries",
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("notification_id", sa.Uuid(), nullable=False),
        sa.Column("origin_tenant_id", sa.Uuid(), nullable=True),
        sa.Column("event", sa.String(length=20), nullable=False),
        sa.Column("body", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_intake_webhook_deliveries")),
    )
    op.create_index(
        "ix_intake_webhook_deliveries_due",
        "intake_webhook_deliveries",
        ["next_attempt_at"],
        unique=False,
        postgresql_where="status = 'pending'",
    )
    op.create_index("ix_intake_webhook_deliveries_client_id", "intake_webhook_deliveries", ["client_id"], unique=False)
    # The county whose officer decided a notification writes its callback; the platform relay sends it.
    helpers.enable_tenant_rls(
        "intake_webhook_deliveries",
        using=(
            f"{helpers.PLATFORM_EXPRESSION} OR {CLIENT_EXPRESSION} OR origin_tenant_id = {helpers.TENANT_EXPRESSION}"
        ),
    )
    helpers.grant_app("intake_webhook_deliveries", "SELECT, INSERT, UPDATE")


def downgrade() -> None:
    for table in (
        "intake_webhook_deliveries",
        "intake_webhook_subscriptions",
        "intake_triages",
        "intake_notifications",
    ):
        op.drop_table(table)
