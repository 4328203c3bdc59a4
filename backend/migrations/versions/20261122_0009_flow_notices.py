"""Outflow/inflow notices between counties: two more question types of the shared verification record
(`inflow_registered`, `inflow_left`). No new table.

Revision ID: 0009_flow_notices
Revises: 0008_intake
Create Date: 2026-11-22 18:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009_flow_notices"
down_revision: str | None = "0008_intake"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NEW_VALUES = ("inflow_registered", "inflow_left")


def upgrade() -> None:
    for value in NEW_VALUES:
        op.execute(f"ALTER TYPE verification_question ADD VALUE IF NOT EXISTS '{value}'")


def downgrade() -> None:
    # PostgreSQL cannot drop a value from an enum type: the values stay (harmless; the upgrade is idempotent).
    pass
