"""Every query on the working-day calendar.

The official schedule is national: any session reads it, and row-level security lets only the platform
context write it. County holidays are tenant-owned: RLS scopes them to the transaction's tenant and the
repository filters on the tenant as well (two locks, not one).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

from sqlalchemy import delete, func, insert, select, update

from backend.calendar.workdays import DayKind, SpecialDay
from backend.db.repository import Repository, TenantScopedRepository
from backend.models import CountyHoliday, OfficialCalendarDay, OfficialCalendarYear

OfficialVersion = tuple[dt.datetime | None, int]
"""(latest import time, number of published years): changes whenever a notice is imported or replaced."""


def _official_special_day(row: OfficialCalendarDay) -> SpecialDay:
    return SpecialDay(date=row.date, kind=DayKind(row.kind), name=row.name, source=row.source, name_en=row.name_en)


def _county_special_day(row: CountyHoliday) -> SpecialDay:
    return SpecialDay(date=row.date, kind=DayKind.COUNTY_HOLIDAY, name=row.name, source=row.source)


def _year_bounds(year: int) -> tuple[dt.date, dt.date]:
    return dt.date(year, 1, 1), dt.date(year, 12, 31)


class OfficialCalendarRepository(Repository):
    """The national official schedule (国务院办公厅放假通知): published years and their special days. National rows
    belong to no county (the plain base)."""

    async def version(self) -> OfficialVersion:
        """A cheap value that changes whenever the official schedule changes (one aggregate over the years)."""
        statement = select(func.max(OfficialCalendarYear.imported_at), func.count())
        latest, count = (await self.session.execute(statement)).one()
        return latest, int(count)

    async def special_days(self) -> list[SpecialDay]:
        """Every official special day, sorted by date."""
        statement = select(
            OfficialCalendarDay.date,
            OfficialCalendarDay.kind,
            OfficialCalendarDay.name,
            OfficialCalendarDay.source,
            OfficialCalendarDay.name_en,
        ).order_by(OfficialCalendarDay.date)
        return [
            SpecialDay(date=day, kind=DayKind(kind), name=name, source=source, name_en=name_en)
            for day, kind, name, source, name_en in (await self.session.execute(statement)).all()
        ]

    async def published_years(self) -> list[int]:
        """The years whose official schedule is known, ascending."""
        return await self.all(select(OfficialCalendarYear.year).order_by(OfficialCalendarYear.year))

    async def get_year(self, year: int) -> OfficialCalendarYear | None:
        """The record of a published year, or None when the year is not published."""
        return await self.session.get(OfficialCalendarYear, year)

    async def days_in_year(self, year: int) -> list[SpecialDay]:
        """The official special days dated in `year` (whichever notice announced them), sorted by date."""
        first, last = _year_bounds(year)
        statement = (
            select(OfficialCalendarDay)
            .where(OfficialCalendarDay.date.between(first, last))
            .order_by(OfficialCalendarDay.date)
        )
        return [_official_special_day(row) for row in await self.all(statement)]

    async def days_of_notice(self, year: int) -> list[OfficialCalendarDay]:
        """The days announced by `year`'s notice (December New Year's Day days of year - 1 included)."""
        statement = (
            select(OfficialCalendarDay)
            .where(OfficialCalendarDay.notice_year == year)
            .order_by(OfficialCalendarDay.date)
        )
        return await self.all(statement)

    async def days_of_other_notices_on(self, dates: Iterable[dt.date], year: int) -> list[OfficialCalendarDay]:
        """Official days on any of `dates` that belong to a notice other than `year`'s."""
        statement = (
            select(OfficialCalendarDay)
            .where(OfficialCalendarDay.date.in_(list(dates)), OfficialCalendarDay.notice_year != year)
            .order_by(OfficialCalendarDay.date)
        )
        return await self.all(statement)

    async def delete_days_of_notice(self, year: int) -> int:
        """Remove the days of `year`'s notice (platform context only); returns how many were removed."""
        # The default synchronisation marks rows already loaded in this session as deleted too.
        result = await self.session.execute(delete(OfficialCalendarDay).where(OfficialCalendarDay.notice_year == year))
        return int(result.rowcount)  # type: ignore[attr-defined]

    async def insert_year(self, year: int, source: str) -> None:
        """Record `year` as published (platform context only)."""
        # clock_timestamp(), not now(): two imports in one transaction must still change `version()`.
        await self.session.execute(
            insert(OfficialCalendarYear).values(year=year, source=source, imported_at=func.clock_timestamp())
        )

    async def update_year(self, year: int, source: str) -> None:
        """Record a replacement of `year`'s notice: its new source and import time (platform context only)."""
        await self.session.execute(
            update(OfficialCalendarYear)
            .where(OfficialCalendarYear.year == year)
            .values(source=source, imported_at=func.clock_timestamp())
            .execution_options(synchronize_session=False)
        )
        # The loaded row (if any) is stale now.
        year_row = await self.session.get(OfficialCalendarYear, year)
        if year_row is not None:
            await self.session.refresh(year_row)

    def add_days(self, days: Sequence[OfficialCalendarDay]) -> None:
        """Stage a notice's days (platform context only)."""
        self.add_all(days)


class CountyHolidayRepository(TenantScopedRepository[CountyHoliday]):
    """The current tenant's county-level extra holidays (县级增设假日)."""

    model = CountyHoliday
    unit_column = None
    entity_type = "county_holiday"

    async def with_official_version(self) -> tuple[OfficialVersion, list[SpecialDay]]:
        """The official schedule's version (as `OfficialCalendarRepository.version()`) and the tenant's county
        holidays (as `special_days()`), in one statement: what loading the county's calendar needs each time."""
        version = select(
            func.max(OfficialCalendarYear.imported_at).label("latest"), func.count().label("years")
        ).subquery()
        statement = (
            select(version.c.latest, version.c.years, CountyHoliday.date, CountyHoliday.name, CountyHoliday.source)
            .select_from(version)
            .outerjoin(CountyHoliday, self.in_county())
            .order_by(CountyHoliday.date)
        )
        rows = (await self.session.execute(statement)).all()
        days = [
            SpecialDay(date=day, kind=DayKind.COUNTY_HOLIDAY, name=name, source=source)
            for _, _, day, name, source in rows
            if day is not None
        ]
        return (rows[0][0], int(rows[0][1])), days

    async def special_days(self) -> list[SpecialDay]:
        """All of the tenant's county holidays as special days, sorted by date (a county has a handful)."""
        statement = (
            self.base()
            .with_only_columns(CountyHoliday.date, CountyHoliday.name, CountyHoliday.source)
            .order_by(CountyHoliday.date)
        )
        return [
            SpecialDay(date=day, kind=DayKind.COUNTY_HOLIDAY, name=name, source=source)
            for day, name, source in (await self.session.execute(statement)).all()
        ]

    async def list_by_date(self, year: int | None = None) -> list[CountyHoliday]:
        """The tenant's county holidays, optionally of one year, sorted by date."""
        statement = self.base().order_by(CountyHoliday.date)
        if year is not None:
            first, last = _year_bounds(year)
            statement = statement.where(CountyHoliday.date.between(first, last))
        return await self.all(statement)

    async def days_in_year(self, year: int) -> list[SpecialDay]:
        """The tenant's county holidays of `year` as special days, sorted by date."""
        return [_county_special_day(row) for row in await self.list_by_date(year)]

    async def get_by_date(self, day: dt.date) -> CountyHoliday | None:
        """The county holiday on `day`, or None."""
        return await self.one_or_none(self.base().where(CountyHoliday.date == day))

    async def remove(self, holiday: CountyHoliday) -> None:
        """Delete a county holiday (flushed by the caller)."""
        await self.session.delete(holiday)
