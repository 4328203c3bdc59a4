"""Accountable procedures (issue #22): maker-checker signatures of cases, county settings, rewards and their
payments, complaints and reports, the information-query ledger.

Every table is tenant-owned: row-level security enabled and forced, and grants for the application role only as
needed (signatures and payments are never changed nor removed: SELECT, INSERT).

Revision ID: 0014_procedures
Revises: 0011_client_context
Create Date: 2026-12-07 12:00:00
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from backend.migrations import helpers

revision: str = "0014_procedures"
down_revision: str | None = "0013_village_services"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHANNELS = ("hotline", "mailbox", "letter", "visit", "online")
# (table, the application role's privileges), in creation order.
TABLES = (
    ("county_settings", "SELECT, INSERT, UPDATE"),
    ("case_signoffs", "SELECT, INSERT"),
    ("reward_applications", "SELECT, INSERT, UPDATE"),
    ("reward_payments", "SELECT, INSERT"),
    ("complaints", "SELECT, INSERT, UPDATE"),
    ("info_queries", "SELECT, INSERT, UPDATE"),
)


def _tenant(table: str) -> list[Any]:
    """The columns and constraints every tenant-owned table of this revision shares: id, tenant, primary key."""
    return [
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f(f"fk_{table}_tenant_id_tenants"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
    ]


def _timestamps() -> list[Any]:
    return [
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
    ]


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}"), ondelete="RESTRICT"
    )


def upgrade() -> None:
    op.create_table(
        "county_settings",
        sa.Column("settings", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        *_timestamps(),
        sa.Column("version", sa.Integer(), nullable=False),
        *_tenant("county_settings"),
        sa.UniqueConstraint("tenant_id", name=op.f("uq_county_settings_tenant_id")),
    )
    op.create_table(
        "case_signoffs",
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("step", sa.String(length=40), nullable=False),
        sa.Column("stage", sa.String(length=20), nullable=False),
        sa.Column("role", sa.String(length=60), nullable=False),
        sa.Column("signer_id", sa.Uuid(), nullable=False),
        sa.Column("signer_label", sa.String(length=100), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attestation", sa.Text(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("request_id", sa.String(length=64), nullable=False),
        *_tenant("case_signoffs"),
        _fk("case_signoffs", "case_id", "cases"),
        _fk("case_signoffs", "signer_id", "users"),
        sa.UniqueConstraint("case_id", "signer_id", name=op.f("uq_case_signoffs_case_id_signer_id")),
        sa.UniqueConstraint("case_id", "step", name=op.f("uq_case_signoffs_case_id_step")),
    )
    op.create_index(op.f("ix_case_signoffs_case_id"), "case_signoffs", ["case_id"], unique=False)
    op.create_table(
        "reward_applications",
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("policy", sa.String(length=40), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("org_unit_code", sa.String(length=12), nullable=False),
        sa.Column("applicant_id", sa.Uuid(), nullable=False),
        sa.Column("spouse_id", sa.Uuid(), nullable=True),
        sa.Column("payee_id", sa.Uuid(), nullable=False),
        sa.Column("amount", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("eligibility", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        *_timestamps(),
        sa.Column("version", sa.Integer(), nullable=False),
        *_tenant("reward_applications"),
        _fk("reward_applications", "applicant_id", "persons"),
        _fk("reward_applications", "case_id", "cases"),
        _fk("reward_applications", "payee_id", "persons"),
        _fk("reward_applications", "spouse_id", "persons"),
        sa.UniqueConstraint("case_id", name=op.f("uq_reward_applications_case_id")),
    )
    op.create_index(
        "ix_reward_applications_unit_year",
        "reward_applications",
        ["tenant_id", "org_unit_code", "year"],
        unique=False,
        postgresql_ops={"org_unit_code": "text_pattern_ops"},
    )
    op.create_table(
        "reward_payments",
        sa.Column("reward_id", sa.Uuid(), nullable=False),
        sa.Column("payee_id", sa.Uuid(), nullable=False),
        sa.Column("amount", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("paid_on", sa.Date(), nullable=False),
        sa.Column("reference", sa.String(length=100), nullable=True),
        sa.Column("org_unit_code", sa.String(length=12), nullable=False),
        sa.Column("recorded_by", sa.String(length=80), nullable=False),
        *_timestamps(),
        *_tenant("reward_payments"),
        _fk("reward_payments", "payee_id", "persons"),
        _fk("reward_payments", "reward_id", "reward_applications"),
    )
    op.create_index(op.f("ix_reward_payments_reward_id"), "reward_payments", ["reward_id"], unique=False)
    op.create_table(
        "complaints",
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("complaint", "liangfei_report", name="complaint_kind", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column(
            "channel",
            sa.Enum(*CHANNELS, name="complaint_channel", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("org_unit_code", sa.String(length=12), nullable=False),
        sa.Column("anonymous", sa.Boolean(), nullable=False),
        sa.Column("complainant_name", sa.String(length=100), nullable=True),
        sa.Column("complainant_contact", sa.String(length=200), nullable=True),
        sa.Column("summary", sa.String(length=200), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("practices", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.Column("reply", sa.Text(), nullable=True),
        sa.Column("replied_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("verified", sa.Boolean(), nullable=True),
        sa.Column("reward_amount", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column("reward_paid_on", sa.Date(), nullable=True),
        sa.Column("reward_reference", sa.String(length=100), nullable=True),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        *_timestamps(),
        sa.Column("version", sa.Integer(), nullable=False),
        *_tenant("complaints"),
        _fk("complaints", "case_id", "cases"),
        sa.UniqueConstraint("case_id", name=op.f("uq_complaints_case_id")),
    )
    op.create_index(
        "ix_complaints_unit_received",
        "complaints",
        ["tenant_id", "org_unit_code", "received_at"],
        unique=False,
        postgresql_ops={"org_unit_code": "text_pattern_ops"},
    )
    op.create_table(
        "info_queries",
        sa.Column("number", sa.String(length=40), nullable=False),
        sa.Column("org_unit_code", sa.String(length=12), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("purpose", sa.String(length=30), nullable=False),
        sa.Column("requester_name", sa.String(length=100), nullable=True),
        sa.Column("requester_unit", sa.String(length=200), nullable=True),
        sa.Column("documents_seen", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("application_signed", sa.Boolean(), nullable=False),
        sa.Column("subject_person_id", sa.Uuid(), nullable=True),
        sa.Column("subject_name", sa.String(length=50), nullable=True),
        sa.Column("subject_sex", sa.String(length=10), nullable=True),
        sa.Column("subject_consent", sa.Boolean(), nullable=False),
        sa.Column("answer", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("refusal_reason", sa.Text(), nullable=True),
        sa.Column("handled_by", sa.String(length=80), nullable=True),
        sa.Column("handled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("retain_until", sa.Date(), nullable=False),
        sa.Column("destroyed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("destroy_approved_by", sa.String(length=80), nullable=True),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        *_timestamps(),
        sa.Column("version", sa.Integer(), nullable=False),
        *_tenant("info_queries"),
        _fk("info_queries", "subject_person_id", "persons"),
        sa.UniqueConstraint("tenant_id", "number", name=op.f("uq_info_queries_tenant_id_number")),
    )
    op.create_index(
        "ix_info_queries_unit_requested",
        "info_queries",
        ["tenant_id", "org_unit_code", "requested_at"],
        unique=False,
        postgresql_ops={"org_unit_code": "text_pattern_ops"},
    )
    for table, privileges in TABLES:
        op.create_index(op.f(f"ix_{table}_tenant_id"), table, ["tenant_id"], unique=False)
        helpers.enable_tenant_rls(table)
        helpers.grant_app(table, privileges)


def downgrade() -> None:
    for table, _privileges in reversed(TABLES):
        helpers.disable_tenant_rls(table)
        op.drop_table(table)
