"""Cross-county verification: requests and notices shared by the requesting and the responding county (RLS
admits both), and the alerts of their deadlines.

Revision ID: 0007_verification
Revises: 0005_workflows
Create Date: 2026-11-22 16:23:49.384635
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from backend.migrations import helpers

revision: str = "0007_verification"
down_revision: str | None = "0006_documents"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ENUM_TYPES = ("verification_kind", "verification_state", "verification_question", "verification_channel")


def upgrade() -> None:
    op.create_table(
        "verification_requests",
        sa.Column("kind", sa.Enum("request", "notice", name="verification_kind"), nullable=False),
        sa.Column("correlation_id", sa.String(length=40), nullable=False),
        sa.Column(
            "state",
            sa.Enum("pending", "answered", "rejected", "withdrawn", "expired", name="verification_state"),
            nullable=False,
        ),
        sa.Column("case_id", sa.Uuid(), nullable=True),
        sa.Column("requester_county_code", sa.String(length=6), nullable=False),
        sa.Column("requester_unit_code", sa.String(length=12), nullable=False),
        sa.Column("requester_unit_name", sa.String(length=100), nullable=False),
        sa.Column("responder_tenant_id", sa.Uuid(), nullable=True),
        sa.Column("responder_county_code", sa.String(length=6), nullable=False),
        sa.Column("responder_unit_code", sa.String(length=12), nullable=False),
        sa.Column("responder_unit_name", sa.String(length=100), nullable=True),
        sa.Column("responder_assignee_id", sa.Uuid(), nullable=True),
        sa.Column("subject_name", sa.String(length=50), nullable=False),
        sa.Column("subject_resident_id_ciphertext", sa.LargeBinary(), nullable=True),
        sa.Column("subject_resident_id_hash", sa.String(length=64), nullable=True),
        sa.Column(
            "question_type",
            sa.Enum(
                "marital_childbearing",
                "contraception",
                "pregnancy",
                "birth",
                "certificate",
                "first_child_registration",
                "rebirth_approval",
                "contraception_report",
                "other",
                name="verification_question",
            ),
            nullable=False,
        ),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("attachment_document_ids", sa.ARRAY(sa.Uuid()), nullable=False),
        sa.Column(
            "channel",
            sa.Enum("platform", "registered_mail", "fax", "phone", name="verification_channel"),
            nullable=False,
        ),
        sa.Column("evidence", sa.String(length=300), nullable=True),
        sa.Column("evidence_document_id", sa.Uuid(), nullable=True),
        sa.Column("materials_received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("send_due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_on_time", sa.Boolean(), nullable=False),
        sa.Column("arrived_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answer_due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answer_due_provisional", sa.Boolean(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("responder_overdue", sa.Boolean(), nullable=False),
        sa.Column("responder_escalation_level", sa.Integer(), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("answered_on_time", sa.Boolean(), nullable=True),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column(
            "answer_channel",
            sa.Enum("platform", "registered_mail", "fax", "phone", name="verification_channel"),
            nullable=True,
        ),
        sa.Column("answer_evidence_document_id", sa.Uuid(), nullable=True),
        sa.Column("close_reason", sa.Text(), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_verification_requests_case_id_cases"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["responder_tenant_id"],
            ["tenants.id"],
            name=op.f("fk_verification_requests_responder_tenant_id_tenants"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_verification_requests_tenant_id_tenants"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_verification_requests")),
        sa.UniqueConstraint("correlation_id", name=op.f("uq_verification_requests_correlation_id")),
    )
    op.create_index(op.f("ix_verification_requests_case_id"), "verification_requests", ["case_id"], unique=False)
    op.create_index(
        "ix_verification_requests_inbox",
        "verification_requests",
        ["responder_tenant_id", "responder_unit_code", "answer_due_at"],
        unique=False,
        postgresql_ops={"responder_unit_code": "text_pattern_ops"},
    )
    op.create_index(
        "ix_verification_requests_outbox",
        "verification_requests",
        ["tenant_id", "requester_unit_code", "answer_due_at"],
        unique=False,
        postgresql_ops={"requester_unit_code": "text_pattern_ops"},
    )
    op.create_index(op.f("ix_verification_requests_tenant_id"), "verification_requests", ["tenant_id"], unique=False)
    op.create_index(
        "uq_verification_requests_one_open",
        "verification_requests",
        ["case_id", "responder_unit_code", "kind"],
        unique=True,
        postgresql_where="state = 'pending'",
    )
    op.create_table(
        "verification_alerts",
        sa.Column("request_id", sa.Uuid(), nullable=False),
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
            ["request_id"],
            ["verification_requests.id"],
            name=op.f("fk_verification_alerts_request_id_verification_requests"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_verification_alerts_tenant_id_tenants"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_verification_alerts")),
        sa.UniqueConstraint("request_id", "kind", "level", name=op.f("uq_verification_alerts_request_id_kind_level")),
    )
    op.create_index(
        op.f("ix_verification_alerts_recipient_unit_code"), "verification_alerts", ["recipient_unit_code"], unique=False
    )
    op.create_index(op.f("ix_verification_alerts_request_id"), "verification_alerts", ["request_id"], unique=False)
    op.create_index(op.f("ix_verification_alerts_tenant_id"), "verification_alerts", ["tenant_id"], unique=False)

    # A request is visible to (and writable by) the county that sent it and the county that must answer it.
    tenant = helpers.TENANT_EXPRESSION
    helpers.enable_tenant_rls("verification_requests", using=f"tenant_id = {tenant} OR responder_tenant_id = {tenant}")
    helpers.enable_tenant_rls("verification_alerts")
    # Requests are closed (answered, rejected, withdrawn, expired), never deleted by the application.
    helpers.grant_app("verification_requests", "SELECT, INSERT, UPDATE")
    helpers.grant_app("verification_alerts", "SELECT, INSERT, UPDATE")


def downgrade() -> None:
    op.drop_index(op.f("ix_verification_alerts_tenant_id"), table_name="verification_alerts")
    op.drop_index(op.f("ix_verification_alerts_request_id"), table_name="verification_alerts")
    op.drop_index(op.f("ix_verification_alerts_recipient_unit_code"), table_name="verification_alerts")
    op.drop_table("verification_alerts")
    op.drop_index(
        "uq_verification_requests_one_open", table_name="verification_requests", postgresql_where="state = 'pending'"
    )
    op.drop_index(op.f("ix_verification_requests_tenant_id"), table_name="verification_requests")
    op.drop_index(
        "ix_verification_requests_outbox",
        table_name="verification_requests",
        postgresql_ops={"requester_unit_code": "text_pattern_ops"},
    )
    op.drop_index(
        "ix_verification_requests_inbox",
        table_name="verification_requests",
        postgresql_ops={"responder_unit_code": "text_pattern_ops"},
    )
    op.drop_index(op.f("ix_verification_requests_case_id"), table_name="verification_requests")
    op.drop_table("verification_requests")
    for enum_type in ENUM_TYPES:
        op.execute(f"DROP TYPE IF EXISTS {enum_type}")
