"""Working-day calendar: the official schedule (national) and county holidays (per tenant).

The official schedule is seeded from the `chinesecalendar` package installed when this migration runs: every
year it knows is recorded as published. Later years arrive through the admin import of the State Council
notice (backend/calendar/service.py).

Revision ID: 0002_calendar
Revises: 0001_platform
Create Date: 2026-11-22
"""

import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from backend.migrations import helpers

revision: str = "0002_calendar"
down_revision: str | None = "0001_platform"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _platform_managed(table: str, *commands: str) -> None:
    """National tables: every county reads them; only the platform context writes them, FORCE included."""
    op.execute(f'ALTER TABLE "{table}" ENABLE ROW LEVEL SECURITY')
    op.execute(f'ALTER TABLE "{table}" FORCE ROW LEVEL SECURITY')
    op.execute(f'CREATE POLICY {table}_read ON "{table}" FOR SELECT USING (true)')
    platform = helpers.PLATFORM_EXPRESSION
    for command in commands:
        clauses = {
            "INSERT": f"WITH CHECK ({platform})",
            "UPDATE": f"USING ({platform}) WITH CHECK ({platform})",
            "DELETE": f"USING ({platform})",
        }[command]
        op.execute(f'CREATE POLICY {table}_{command.lower()} ON "{table}" FOR {command} {clauses}')
    helpers.grant_app(table, ", ".join(("SELECT", *commands)))


def upgrade() -> None:
    op.create_table(
        "official_calendar_years",
        sa.Column("year", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("source", sa.String(100), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    )
    # UPDATE: replacing a year's notice records the new source and import time.
    _platform_managed("official_calendar_years", "INSERT", "UPDATE")

    op.create_table(
        "official_calendar_days",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("name", sa.String(50), nullable=False),
        sa.Column("name_en", sa.String(100), nullable=False, server_default=""),
        sa.Column("source", sa.String(100), nullable=False),
        sa.Column(
            "notice_year",
            sa.Integer(),
            sa.ForeignKey("official_calendar_years.year", ondelete="RESTRICT"),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.CheckConstraint("kind IN ('public_holiday', 'makeup_workday')", name="kind_official"),
        sa.UniqueConstraint("date"),
    )
    op.create_index("ix_official_calendar_days_notice_year", "official_calendar_days", ["notice_year"])
    # DELETE: replacing a year's notice removes that notice's days first.
    _platform_managed("official_calendar_days", "INSERT", "DELETE")

    op.create_table(
        "county_holidays",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("tenant_id", sa.Uuid(), sa.ForeignKey("tenants.id", ondelete="RESTRICT"), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("name", sa.String(50), nullable=False),
        sa.Column("source", sa.String(100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.UniqueConstraint("tenant_id", "date"),
    )
    op.create_index("ix_county_holidays_tenant_id", "county_holidays", ["tenant_id"])
    helpers.enable_tenant_rls("county_holidays")
    helpers.grant_app("county_holidays", "SELECT, INSERT, DELETE")

    _seed_official_schedule()


def _seed_official_schedule() -> None:
    """Every year, holiday and make-up workday the installed `chinesecalendar` package knows."""
    from importlib.metadata import version

    from backend.calendar.notice_import import notice_year_of
    from backend.calendar.official import PACKAGE_NAME, official_published_years, official_special_days
    from backend.calendar.workdays import SpecialDay

    years = official_published_years()
    source = f"{PACKAGE_NAME} {version(PACKAGE_NAME)}"
    years_table = sa.table("official_calendar_years", sa.column("year", sa.Integer()), sa.column("source"))
    days_table = sa.table(
        "official_calendar_days",
        sa.column("id", sa.Uuid()),
        sa.column("date", sa.Date()),
        sa.column("kind"),
        sa.column("name"),
        sa.column("name_en"),
        sa.column("source"),
        sa.column("notice_year", sa.Integer()),
    )

    def seeded_notice_year(day: SpecialDay) -> int:
        # A December New Year's Day (元旦) day belongs to the next notice, if the package ships that year.
        notice_year = notice_year_of(day.date, day.name)
        return notice_year if notice_year in years else day.date.year

    # FORCE ROW LEVEL SECURITY holds for the owner too: write in the platform context, then leave it.
    op.execute("SELECT set_config('app.platform', 'on', true)")
    op.bulk_insert(years_table, [{"year": year, "source": source} for year in sorted(years)])
    op.bulk_insert(
        days_table,
        [
            {
                "id": uuid.uuid4(),
                "date": day.date,
                "kind": day.kind.value,
                "name": day.name,
                "name_en": day.name_en,
                "source": day.source,
                "notice_year": seeded_notice_year(day),
            }
            for day in official_special_days()
        ],
    )
    op.execute("SELECT set_config('app.platform', '', true)")


def downgrade() -> None:
    # Dropping a table drops its policies and grants with it.
    op.drop_table("county_holidays")
    op.drop_table("official_calendar_days")
    op.drop_table("official_calendar_years")
