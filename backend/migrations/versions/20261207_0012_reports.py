"""Supervision: KPI target overrides, published statistical reports (insert-only), the platform's county
aggregates (readable in the platform context), assessment schemes, published assessments and contests (shared by
the assessing and the assessed county: each may read, only its own side may write).

Revision ID: 0012_reports
Revises: 0011_client_context
Create Date: 2026-12-07 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from backend.migrations import helpers

revision: str = "0012_reports"
down_revision: str | None = "0014_procedures"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TENANT = helpers.TENANT_EXPRESSION


def _tenant_fk() -> sa.Column[object]:
    return sa.Column("tenant_id", sa.Uuid(), sa.ForeignKey("tenants.id", ondelete="RESTRICT"), nullable=False)


def _policies(table: str, *, read: str, write: str, update: str | None = None) -> None:
    """Forced RLS with one policy per command: who may read, who may insert, who may update (and delete)."""
    op.execute(f'ALTER TABLE "{table}" ENABLE ROW LEVEL SECURITY')
    op.execute(f'ALTER TABLE "{table}" FORCE ROW LEVEL SECURITY')
    op.execute(f'CREATE POLICY {table}_read ON "{table}" FOR SELECT USING ({read})')
    op.execute(f'CREATE POLICY {table}_insert ON "{table}" FOR INSERT WITH CHECK ({write})')
    if update is not None:
        op.execute(f'CREATE POLICY {table}_update ON "{table}" FOR UPDATE USING ({update}) WITH CHECK ({update})')
        op.execute(f'CREATE POLICY {table}_delete ON "{table}" FOR DELETE USING ({update})')


def upgrade() -> None:
    op.create_table(
        "kpi_targets",
        sa.Column("id", sa.Uuid(), primary_key=True),
        _tenant_fk(),
        sa.Column("kpi_code", sa.String(40), nullable=False),
        sa.Column("target", sa.Float(), nullable=False),
        sa.Column("updated_by", sa.String(100), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.UniqueConstraint("tenant_id", "kpi_code", name="uq_kpi_targets_tenant_id_kpi_code"),
        sa.CheckConstraint("target >= 0 AND target <= 1", name="ck_kpi_targets_share"),
    )
    op.create_index("ix_kpi_targets_tenant_id", "kpi_targets", ["tenant_id"])
    helpers.enable_tenant_rls("kpi_targets")
    helpers.grant_app("kpi_targets", "SELECT, INSERT, UPDATE, DELETE")

    op.create_table(
        "statistical_reports",
        sa.Column("id", sa.Uuid(), primary_key=True),
        _tenant_fk(),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("period_key", sa.String(10), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("org_unit_code", sa.String(12), nullable=False),
        sa.Column("version_number", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("as_of", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_by", sa.String(100), nullable=False),
        sa.Column("correction_reason", sa.Text(), nullable=True),
        sa.Column(
            "supersedes_id", sa.Uuid(), sa.ForeignKey("statistical_reports.id", ondelete="RESTRICT"), nullable=True
        ),
        sa.Column("figures", postgresql.JSONB(), nullable=False),
        sa.UniqueConstraint(
            "tenant_id", "kind", "period_key", "org_unit_code", "version_number", name="uq_statistical_reports_version"
        ),
    )
    op.create_index("ix_statistical_reports_tenant_id", "statistical_reports", ["tenant_id"])
    op.create_index(
        "ix_statistical_reports_unit", "statistical_reports", ["tenant_id", "org_unit_code", "kind", "period_key"]
    )
    helpers.enable_tenant_rls("statistical_reports")
    # Published figures are frozen: no UPDATE, no DELETE, for anyone the application runs as.
    helpers.grant_app("statistical_reports", "SELECT, INSERT")

    op.create_table(
        "kpi_county_months",
        sa.Column("tenant_id", sa.Uuid(), sa.ForeignKey("tenants.id", ondelete="RESTRICT"), primary_key=True),
        sa.Column("kpi_code", sa.String(40), primary_key=True),
        sa.Column("month", sa.Date(), primary_key=True),
        sa.Column("numerator", sa.Integer(), nullable=False),
        sa.Column("denominator", sa.Integer(), nullable=False),
        sa.Column("refreshed_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_kpi_county_months_month", "kpi_county_months", ["month", "kpi_code"])
    # Counts only: the platform operator reads every county's (no personal data), each county writes its own.
    _policies(
        "kpi_county_months",
        read=f"tenant_id = {TENANT} OR {helpers.PLATFORM_EXPRESSION}",
        write=f"tenant_id = {TENANT}",
        update=f"tenant_id = {TENANT}",
    )
    helpers.grant_app("kpi_county_months", "SELECT, INSERT, UPDATE, DELETE")

    op.create_table(
        "assessment_schemes",
        sa.Column("id", sa.Uuid(), primary_key=True),
        _tenant_fk(),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("items", postgresql.JSONB(), nullable=False),
        sa.Column("updated_by", sa.String(100), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.UniqueConstraint("tenant_id", "year", name="uq_assessment_schemes_tenant_id_year"),
    )
    op.create_index("ix_assessment_schemes_tenant_id", "assessment_schemes", ["tenant_id"])
    helpers.enable_tenant_rls("assessment_schemes")
    helpers.grant_app("assessment_schemes", "SELECT, INSERT, UPDATE")

    op.create_table(
        "assessments",
        sa.Column("id", sa.Uuid(), primary_key=True),
        _tenant_fk(),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("assessor_county_code", sa.String(6), nullable=False),
        sa.Column("assessed_county_code", sa.String(6), nullable=False),
        sa.Column("assessed_tenant_id", sa.Uuid(), sa.ForeignKey("tenants.id", ondelete="RESTRICT"), nullable=True),
        sa.Column("version_number", sa.Integer(), nullable=False),
        sa.Column("figures", postgresql.JSONB(), nullable=False),
        sa.Column("total_score", sa.Float(), nullable=True),
        sa.Column("vetoed", sa.Boolean(), nullable=False),
        sa.Column("as_of", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_by", sa.String(100), nullable=False),
        sa.Column("correction_reason", sa.Text(), nullable=True),
        sa.Column("supersedes_id", sa.Uuid(), sa.ForeignKey("assessments.id", ondelete="RESTRICT"), nullable=True),
        sa.UniqueConstraint(
            "tenant_id", "kind", "year", "assessed_county_code", "version_number", name="uq_assessments_version"
        ),
    )
    op.create_index("ix_assessments_tenant_id", "assessments", ["tenant_id"])
    op.create_index("ix_assessments_assessed", "assessments", ["assessed_tenant_id", "year"])
    # The assessed county reads the scores it got; only the assessor writes them, and nobody changes them.
    _policies(
        "assessments",
        read=f"tenant_id = {TENANT} OR assessed_tenant_id = {TENANT}",
        write=f"tenant_id = {TENANT}",
    )
    helpers.grant_app("assessments", "SELECT, INSERT")

    op.create_table(
        "assessment_contests",
        sa.Column("id", sa.Uuid(), primary_key=True),
        _tenant_fk(),
        sa.Column("assessor_tenant_id", sa.Uuid(), sa.ForeignKey("tenants.id", ondelete="RESTRICT"), nullable=False),
        sa.Column("assessment_id", sa.Uuid(), sa.ForeignKey("assessments.id", ondelete="RESTRICT"), nullable=False),
        sa.Column("item_code", sa.String(40), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("raised_by", sa.String(100), nullable=False),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("response", sa.Text(), nullable=True),
        sa.Column("responded_by", sa.String(100), nullable=True),
        sa.Column("responded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
    )
    for column in ("tenant_id", "assessor_tenant_id", "assessment_id"):
        op.create_index(f"ix_assessment_contests_{column}", "assessment_contests", [column])
    # The contesting county raises it, the assessor answers it; both read it.
    _policies(
        "assessment_contests",
        read=f"tenant_id = {TENANT} OR assessor_tenant_id = {TENANT}",
        write=f"tenant_id = {TENANT}",
        update=f"assessor_tenant_id = {TENANT}",
    )
    helpers.grant_app("assessment_contests", "SELECT, INSERT, UPDATE")

    # Covering indexes for the KPI counts (see backend/models/report.py).
    op.create_index(
        "ix_cases_kpi_due",
        "cases",
        ["tenant_id", "org_unit_code", "due_at"],
        postgresql_ops={"org_unit_code": "text_pattern_ops"},
        postgresql_include=["case_type", "stage", "outcome", "closed_at"],
        postgresql_where=sa.text("due_at IS NOT NULL"),
    )
    op.create_index(
        "ix_cases_kpi_closed",
        "cases",
        ["tenant_id", "case_type", "closed_at"],
        postgresql_include=["org_unit_code", "outcome"],
        postgresql_where=sa.text("closed_at IS NOT NULL"),
    )
    op.create_index(
        "ix_verification_requests_kpi_responder",
        "verification_requests",
        ["responder_county_code", "arrived_at"],
        postgresql_include=[
            "tenant_id",
            "responder_tenant_id",
            "responder_unit_code",
            "requester_county_code",
            "kind",
            "state",
            "answer_due_at",
            "answered_on_time",
        ],
    )
    op.create_index(
        "ix_verification_requests_kpi_requester",
        "verification_requests",
        ["requester_county_code", "materials_received_at"],
        postgresql_include=[
            "tenant_id",
            "responder_tenant_id",
            "requester_unit_code",
            "responder_county_code",
            "requester_off_platform",
            "kind",
            "sent_on_time",
        ],
    )


def downgrade() -> None:
    for index, table in (
        ("ix_verification_requests_kpi_requester", "verification_requests"),
        ("ix_verification_requests_kpi_responder", "verification_requests"),
        ("ix_cases_kpi_closed", "cases"),
        ("ix_cases_kpi_due", "cases"),
    ):
        op.drop_index(index, table_name=table)
    for table in (
        "assessment_contests",
        "assessments",
        "assessment_schemes",
        "kpi_county_months",
        "statistical_reports",
        "kpi_targets",
    ):
        op.drop_table(table)
