"""Intra-county entrustment (县内委托, P21): a case handed by one township to another of the same county, pending
until the receiving township accepts or returns it; under forced row-level security, at most one pending hand-over
per case; the yearly archive volumes (年度归档, P26): one per unit and year; and documents owned by an information
query (its signed application form, P19).

Revision ID: 0021_entrustment
Revises: 0016_notifications
Create Date: 2026-12-07 17:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from backend.migrations import helpers

revision: str = "0021_entrustment"
down_revision: str | None = "0019_webhooks"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "case_entrustments",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("tenant_id", sa.Uuid(), sa.ForeignKey("tenants.id", ondelete="RESTRICT"), nullable=False),
        sa.Column("case_id", sa.Uuid(), sa.ForeignKey("cases.id", ondelete="CASCADE"), nullable=False),
        sa.Column("case_number", sa.String(30), nullable=False),
        sa.Column("from_unit_code", sa.String(12), nullable=False),
        sa.Column("to_unit_code", sa.String(12), nullable=False),
        sa.Column("include_person", sa.Boolean(), nullable=False),
        sa.Column("person_id", sa.Uuid(), sa.ForeignKey("persons.id", ondelete="RESTRICT"), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("requested_by", sa.String(80), nullable=False),
        sa.Column("decided_by", sa.String(80), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    )
    op.create_index("ix_case_entrustments_tenant_id", "case_entrustments", ["tenant_id"])
    op.create_index("ix_case_entrustments_case_id", "case_entrustments", ["case_id"])
    op.create_index(
        "ix_case_entrustments_receiver", "case_entrustments", ["tenant_id", "to_unit_code", "state", "created_at"]
    )
    op.create_index(
        "uq_case_entrustments_pending",
        "case_entrustments",
        ["tenant_id", "case_id"],
        unique=True,
        postgresql_where=sa.text("state = 'pending'"),
    )
    helpers.enable_tenant_rls("case_entrustments")
    helpers.grant_app("case_entrustments", "SELECT, INSERT, UPDATE")

    op.create_table(
        "archive_volumes",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("tenant_id", sa.Uuid(), sa.ForeignKey("tenants.id", ondelete="RESTRICT"), nullable=False),
        sa.Column("org_unit_code", sa.String(12), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("case_count", sa.Integer(), nullable=False),
        sa.Column("document_count", sa.Integer(), nullable=False),
        sa.Column("index_key", sa.String(300), nullable=True),
        sa.Column("index_sha256", sa.String(64), nullable=True),
        sa.Column("manifest_key", sa.String(300), nullable=True),
        sa.Column("manifest_sha256", sa.String(64), nullable=True),
        sa.Column("retain_until", sa.Date(), nullable=True),
        sa.Column("requested_by", sa.String(80), nullable=False),
        sa.Column("built_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("failure", sa.Text(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.UniqueConstraint(
            "tenant_id", "org_unit_code", "year", name="uq_archive_volumes_tenant_id_org_unit_code_year"
        ),
    )
    op.create_index("ix_archive_volumes_tenant_id", "archive_volumes", ["tenant_id"])
    helpers.enable_tenant_rls("archive_volumes")
    helpers.grant_app("archive_volumes", "SELECT, INSERT, UPDATE")

    # The signed application form of an information query (P19) is a document of the query.
    op.execute("ALTER TYPE document_owner_kind ADD VALUE IF NOT EXISTS 'info_query'")


def downgrade() -> None:
    # PostgreSQL cannot drop an enum value: 'info_query' stays in document_owner_kind (unused by older code).
    op.drop_table("archive_volumes")
    op.drop_table("case_entrustments")
