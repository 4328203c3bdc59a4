"""The working-day calendar (工作日历) in the database: the national official schedule and county holidays.

`official_calendar_days` and `official_calendar_years` are national, not tenant-owned: every county reads
them, and only the platform context (`app.platform = on`) writes them. `county_holidays` are tenant-owned.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, Date, DateTime, ForeignKey, Integer, String, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column

from backend.db.base import Base, IdMixin, TenantMixin

# Kept in step with backend.calendar.notice_import.MAX_LENGTHS (the import refuses longer values).
NAME_LENGTH = 50
NAME_EN_LENGTH = 100
SOURCE_LENGTH = 100


class OfficialCalendarYear(Base):
    """A year whose State Council holiday notice (国务院办公厅放假通知) is known: its schedule is published.

    Deadlines that run through a year without a row here are counted Monday-to-Friday only and marked
    provisional. `source` names the notice (or "chinesecalendar <version>" for the seeded years).
    """

    __tablename__ = "official_calendar_years"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    source: Mapped[str] = mapped_column(String(SOURCE_LENGTH), nullable=False)
    imported_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now(), nullable=False)


class OfficialCalendarDay(IdMixin, Base):
    """One day of the official schedule: a public holiday (放假) or a make-up workday (调休上班).

    `kind` holds a `backend.calendar.DayKind` value (public_holiday or makeup_workday). `notice_year` is the
    year of the notice that announced the day: the day's own year, except for December days of a New
    Year's Day holiday (元旦), which the next year's notice announces (see `notice_year_of`). Replacing a
    year's notice deletes the days of that notice year.
    """

    __tablename__ = "official_calendar_days"
    __table_args__ = (CheckConstraint("kind IN ('public_holiday', 'makeup_workday')", name="kind_official"),)

    date: Mapped[dt.date] = mapped_column(Date, unique=True, nullable=False)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH), nullable=False)
    name_en: Mapped[str] = mapped_column(String(NAME_EN_LENGTH), nullable=False, default="", server_default="")
    source: Mapped[str] = mapped_column(String(SOURCE_LENGTH), nullable=False)
    notice_year: Mapped[int] = mapped_column(
        Integer, ForeignKey("official_calendar_years.year", ondelete="RESTRICT"), nullable=False, index=True
    )
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now(), nullable=False)


class CountyHoliday(IdMixin, TenantMixin, Base):
    """A county-level extra day off (县级增设假日), e.g. an ethnic festival in an autonomous county.

    `source` names the county government's decision that declared it.
    """

    __tablename__ = "county_holidays"
    __table_args__ = (UniqueConstraint("tenant_id", "date"),)
    # Read created_at back with the INSERT (RETURNING), so a new row can be shown without another query.
    __mapper_args__ = {"eager_defaults": True}

    date: Mapped[dt.date] = mapped_column(Date, nullable=False)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH), nullable=False)
    source: Mapped[str] = mapped_column(String(SOURCE_LENGTH), nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now(), nullable=False)
