"""Incoming requests from counties that are not on the platform (来函协查): the responding county records them
itself, so the row's `tenant_id` and `responder_tenant_id` are both that county and the existing policy
(`tenant_id = current OR responder_tenant_id = current`) admits that county only. The requester's codes become
optional (an off-platform county's letter may name only itself), the ordinary-letter channel is added, and
the reply's evidence and the other county's reference number are kept.

Revision ID: 0010_offplatform_incoming
Revises: 0009_flow_notices
Create Date: 2026-11-22 19:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_offplatform_incoming"
down_revision: str | None = "0009_flow_notices"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("ALTER TYPE verification_channel ADD VALUE IF NOT EXISTS 'letter'")
    op.add_column(
        "verification_requests",
        sa.Column("requester_off_platform", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.add_column("verification_requests", sa.Column("requester_reference", sa.String(length=100), nullable=True))
    op.add_column("verification_requests", sa.Column("answer_evidence", sa.String(length=300), nullable=True))
    op.alter_column("verification_requests", "requester_county_code", existing_type=sa.String(length=6), nullable=True)
    op.alter_column("verification_requests", "requester_unit_code", existing_type=sa.String(length=12), nullable=True)
    # An incoming off-platform request is the responder's own row: requester and responder tenant are the same
    # county, and nothing else may pretend to be off-platform.
    op.create_check_constraint(
        "ck_verification_requests_off_platform_requester",
        "verification_requests",
        "NOT requester_off_platform OR (responder_tenant_id = tenant_id AND case_id IS NULL)",
    )
    op.create_check_constraint(
        "ck_verification_requests_requester_codes",
        "verification_requests",
        "requester_off_platform OR (requester_county_code IS NOT NULL AND requester_unit_code IS NOT NULL)",
    )


def downgrade() -> None:
    op.execute("DELETE FROM verification_requests WHERE requester_off_platform")
    op.drop_constraint("ck_verification_requests_requester_codes", "verification_requests", type_="check")
    op.drop_constraint("ck_verification_requests_off_platform_requester", "verification_requests", type_="check")
    op.alter_column("verification_requests", "requester_unit_code", existing_type=sa.String(length=12), nullable=False)
    op.alter_column("verification_requests", "requester_county_code", existing_type=sa.String(length=6), nullable=False)
    op.drop_column("verification_requests", "answer_evidence")
    op.drop_column("verification_requests", "requester_reference")
    op.drop_column("verification_requests", "requester_off_platform")
    # PostgreSQL cannot drop the 'letter' value from the enum type: it stays (harmless; the upgrade is idempotent).
