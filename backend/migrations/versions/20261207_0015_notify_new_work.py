"""Wake the background workers when there is new work: a statement trigger on the outbox and on department
notifications notifies a channel (`liuguan_outbox`, `liuguan_intake`), which PostgreSQL delivers when the
inserting transaction commits, once per transaction and channel. The relay and the intake router listen and
sleep in between (backend/core/polling.py); no round trip is added to the writing request.

Revision ID: 0015_notify_new_work
Revises: 0011_client_context
Create Date: 2026-12-07 12:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0015_notify_new_work"
down_revision: str | None = "0012_grant_requests"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHANNELS = {"outbox_messages": "liuguan_outbox", "intake_notifications": "liuguan_intake"}


def upgrade() -> None:
    for table, channel in CHANNELS.items():
        op.execute(
            f"""
            CREATE FUNCTION notify_{table}() RETURNS trigger
            LANGUAGE plpgsql SET search_path = public AS $$
            BEGIN
                PERFORM pg_notify('{channel}', '');
                RETURN NULL;
            END $$
            """
        )
        op.execute(
            f"CREATE TRIGGER notify_{table} AFTER INSERT ON {table} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION notify_{table}()"
        )


def downgrade() -> None:
    for table in CHANNELS:
        op.execute(f"DROP TRIGGER notify_{table} ON {table}")
        op.execute(f"DROP FUNCTION notify_{table}()")
