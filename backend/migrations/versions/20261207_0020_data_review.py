"""Three-level data review (issue #22 point 5, seeds-spec P25): the review state of a person record, the village
entries waiting for the township's confirmation, and the monthly random re-check lists with their findings
(tenant-owned tables, row-level security enabled and forced).

Revision ID: 0020_data_review
Revises: 0016_notifications
Create Date: 2026-12-07 17:00:00
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from backend.migrations import helpers

revision: str = "0020_data_review"
down_revision: str | None = "0021_entrustment"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _common(table: str) -> list[Any]:
    """Timestamps, version, id and tenant: the columns every table of this revision shares."""
    return [
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f(f"fk_{table}_tenant_id_tenants"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
    ]


def upgrade() -> None:
    op.add_column(
        "persons",
        sa.Column(
            "review_state",
            sa.Enum("pending", "rejected", "changes_pending", name="review_state", native_enum=False, length=20),
            nullable=True,
        ),
    )
    # Every report and register now filters on the new column (backend/models/person.py `counted_person`). Until
    # the table is analysed the planner knows nothing of it and guesses that few persons pass: measured on the
    # 200,000-person bench, the county cockpit went from 107 to 720 ms (p50) until ANALYZE. Analysing one table
    # costs a second there; autovacuum would only do it after enough writes.
    op.execute("ANALYZE persons")
    op.create_table(
        "entry_reviews",
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("org_unit_code", sa.String(length=12), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("registration", "change", "re_registration", name="entry_kind", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column(
            "state",
            sa.Enum("pending", "confirmed", "rejected", name="entry_state", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("changes", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("sealed_change", sa.LargeBinary(), nullable=True),
        sa.Column("entered_by", sa.String(length=80), nullable=False),
        sa.Column("entered_by_label", sa.String(length=100), nullable=False),
        sa.Column("decided_by", sa.String(length=80), nullable=True),
        sa.Column("decided_by_label", sa.String(length=100), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        *_common("entry_reviews"),
        sa.ForeignKeyConstraint(
            ["person_id"], ["persons.id"], name=op.f("fk_entry_reviews_person_id_persons"), ondelete="RESTRICT"
        ),
    )
    op.create_index(
        "ix_entry_reviews_unit_state",
        "entry_reviews",
        ["tenant_id", "org_unit_code", "state"],
        unique=False,
        postgresql_ops={"org_unit_code": "text_pattern_ops"},
    )
    op.create_index(op.f("ix_entry_reviews_tenant_id"), "entry_reviews", ["tenant_id"], unique=False)
    op.create_index("ix_entry_reviews_person", "entry_reviews", ["tenant_id", "person_id"], unique=False)
    helpers.enable_tenant_rls("entry_reviews")
    helpers.grant_app("entry_reviews", "SELECT, INSERT, UPDATE")

    op.create_table(
        "recheck_lists",
        sa.Column("org_unit_code", sa.String(length=12), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("seed", sa.String(length=64), nullable=False),
        sa.Column("population", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("sample_size", sa.Integer(), nullable=False),
        sa.Column("drawn_by", sa.String(length=80), nullable=False),
        sa.Column("drawn_by_label", sa.String(length=100), nullable=False),
        *_common("recheck_lists"),
        sa.UniqueConstraint(
            "tenant_id", "org_unit_code", "month", name=op.f("uq_recheck_lists_tenant_id_org_unit_code_month")
        ),
    )
    op.create_index(
        "ix_recheck_lists_unit",
        "recheck_lists",
        ["tenant_id", "org_unit_code"],
        unique=False,
        postgresql_ops={"org_unit_code": "text_pattern_ops"},
    )
    op.create_table(
        "recheck_items",
        sa.Column("list_id", sa.Uuid(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("org_unit_code", sa.String(length=12), nullable=False),
        sa.Column(
            "finding",
            sa.Enum("correct", "corrected", "unverifiable", name="recheck_finding", native_enum=False, length=20),
            nullable=True,
        ),
        sa.Column("corrected_fields", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("checked_by", sa.String(length=80), nullable=True),
        sa.Column("checked_by_label", sa.String(length=100), nullable=True),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=True),
        *_common("recheck_items"),
        sa.ForeignKeyConstraint(
            ["list_id"], ["recheck_lists.id"], name=op.f("fk_recheck_items_list_id_recheck_lists"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["persons.id"], name=op.f("fk_recheck_items_person_id_persons"), ondelete="RESTRICT"
        ),
        sa.UniqueConstraint("list_id", "person_id", name=op.f("uq_recheck_items_list_id_person_id")),
    )
    op.create_index(
        "ix_recheck_items_unit",
        "recheck_items",
        ["tenant_id", "org_unit_code"],
        unique=False,
        postgresql_ops={"org_unit_code": "text_pattern_ops"},
    )
    for table in ("recheck_lists", "recheck_items"):
        op.create_index(op.f(f"ix_{table}_tenant_id"), table, ["tenant_id"], unique=False)
        helpers.enable_tenant_rls(table)
        helpers.grant_app(table, "SELECT, INSERT, UPDATE")


def downgrade() -> None:
    op.drop_table("recheck_items")
    op.drop_table("recheck_lists")
    op.drop_table("entry_reviews")
    op.drop_column("persons", "review_state")
