"""Department callbacks as Standard Webhooks (issue #19): a subscription keeps its previous signing secret for a
rotation window (both signatures are sent until it ends), and a callback being sent is `in_flight` under a lease
(`leased_until`) instead of inside a locked transaction; a lease that runs out (a sender that died) makes the
callback due again, with the same event id.

Revision ID: 0019_webhooks
Revises: 0016_notifications
Create Date: 2026-12-07 16:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019_webhooks"
down_revision: str | None = "0016_notifications"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "intake_webhook_subscriptions", sa.Column("previous_secret_encrypted", sa.LargeBinary(), nullable=True)
    )
    op.add_column(
        "intake_webhook_subscriptions",
        sa.Column("previous_secret_expires_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.add_column("intake_webhook_deliveries", sa.Column("leased_until", sa.DateTime(timezone=True), nullable=True))
    op.create_index(
        "ix_intake_webhook_deliveries_leased",
        "intake_webhook_deliveries",
        ["leased_until"],
        unique=False,
        postgresql_where="status = 'in_flight'",
    )


def downgrade() -> None:
    op.execute("UPDATE intake_webhook_deliveries SET status = 'pending' WHERE status = 'in_flight'")
    op.drop_index("ix_intake_webhook_deliveries_leased", table_name="intake_webhook_deliveries")
    op.drop_column("intake_webhook_deliveries", "leased_until")
    op.drop_column("intake_webhook_subscriptions", "previous_secret_expires_at")
    op.drop_column("intake_webhook_subscriptions", "previous_secret_encrypted")
