"""The working-day calendar (工作日历) of a county, read from the database, and its upkeep.

A county's calendar is the national official schedule (seeded from `chinesecalendar`, extended by the
platform admin's import of each new State Council notice) plus the county's own extra holidays. A year
without a published schedule is counted Monday-to-Friday only and makes due dates provisional
(`DueDate.provisional`); admins are warned from 1 November of the year before (`year_warning`).

Every write is audited in the caller's transaction. Functions flush, never commit.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from backend.audit import service as audit
from backend.calendar.errors import (
    CountyHolidayExists,
    CountyHolidayInPast,
    CountyHolidayNotFound,
    NoticeDatesTaken,
    OfficialYearAlreadyPublished,
)
from backend.calendar.events import WorkingDaysChanged
from backend.calendar.notice_import import NoticeFormat, notice_year, parse_notice_import
from backend.calendar.repository import CountyHolidayRepository, OfficialCalendarRepository, OfficialVersion
from backend.calendar.workdays import DayKind, DueDate, SpecialDay, WorkingDayCalendar
from backend.core import events
from backend.core.clock import CHINA, china_today
from backend.db.tenancy import (
    PLATFORM_SETTING,
    clear_tenant,
    current_tenant_id,
    read_setting,
    set_platform_context,
    set_platform_setting,
    set_tenant,
)
from backend.models import CountyHoliday, OfficialCalendarDay
from backend.tenants.repository import TenantRepository

OFFICIAL_IMPORT_ACTION = "calendar.official_import"
COUNTY_HOLIDAY_ADD_ACTION = "calendar.county_holiday.add"
COUNTY_HOLIDAY_REMOVE_ACTION = "calendar.county_holiday.remove"


# --- reading a county's calendar ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _OfficialSnapshot:
    version: OfficialVersion
    special_days: tuple[SpecialDay, ...]
    published_years: frozenset[int]
    calendar: WorkingDayCalendar


CountyKey = tuple[OfficialVersion, tuple[SpecialDay, ...]]


class _CalendarCache:
    """Calendars built in this process, per database.

    The official part is rebuilt only when `OfficialCalendarRepository.version()` changes (an import or a
    replacement touches `official_calendar_years.imported_at` or adds a year), so the steady state costs one
    small aggregate query. A county's calendar is kept with the county holidays it was built from and
    reused while both parts are unchanged. Values read inside a transaction that later rolls back may be
    cached under that transaction's version; no committed state has that version, so they are never
    served again.
    """

    def __init__(self) -> None:
        self.official: dict[str, _OfficialSnapshot] = {}
        self.county: dict[tuple[str, uuid.UUID], tuple[CountyKey, WorkingDayCalendar]] = {}

    def clear(self) -> None:
        self.official.clear()
        self.county.clear()


_cache = _CalendarCache()


def clear_calendar_cache() -> None:
    """Forget every cached calendar (tests, or after changing the official tables by hand)."""
    _cache.clear()


def _database_key(session: AsyncSession) -> str:
    return session.get_bind().engine.url.render_as_string(hide_password=True)


async def _official_snapshot(session: AsyncSession, version: OfficialVersion | None = None) -> _OfficialSnapshot:
    """The official schedule at `version` (read here when the caller has not read it with something else)."""
    repository = OfficialCalendarRepository(session)
    database = _database_key(session)
    if version is None:
        version = await repository.version()
    cached = _cache.official.get(database)
    if cached is not None and cached.version == version:
        return cached
    special_days = tuple(await repository.special_days())
    published_years = frozenset(await repository.published_years())
    snapshot = _OfficialSnapshot(
        version=version,
        special_days=special_days,
        published_years=published_years,
        calendar=WorkingDayCalendar(special_days, published_years),
    )
    _cache.official[database] = snapshot
    return snapshot


async def load_calendar(session: AsyncSession) -> WorkingDayCalendar:
    """The working-day calendar of the session's tenant: the official schedule plus its county holidays.

    Without a tenant on the session (platform work, system jobs) it is the official schedule alone. Costs
    one query: the official part's version (the days are cached in-process) with the county holidays.
    """
    tenant_id: uuid.UUID | None = session.info.get("tenant_id")
    if tenant_id is None:
        return (await _official_snapshot(session)).calendar
    version, days = await CountyHolidayRepository(session).with_official_version()
    official = await _official_snapshot(session, version)
    county_days = tuple(days)
    if not county_days:
        return official.calendar
    cache_key = (_database_key(session), tenant_id)
    key: CountyKey = (official.version, county_days)
    cached = _cache.county.get(cache_key)
    if cached is not None and cached[0] == key:
        return cached[1]
    calendar = WorkingDayCalendar((*official.special_days, *county_days), official.published_years)
    _cache.county[cache_key] = (key, calendar)
    return calendar


async def official_calendar(session: AsyncSession) -> WorkingDayCalendar:
    """The State Council's schedule alone, without any county's holidays (a county not on the platform)."""
    return (await _official_snapshot(session)).calendar


async def due_date(session: AsyncSession, start: dt.date, working_days: int) -> DueDate:
    """The `working_days`-th working day after `start` on the tenant's calendar (the start day not counted).

    Provisional when the count runs through a year whose official schedule is not published.
    """
    return (await load_calendar(session)).add_working_days(start, working_days)


async def year_warning(session: AsyncSession, today: dt.date) -> int | None:
    """The year whose missing official schedule admins must be warned about on `today`, if any.

    From 1 November, next year's schedule is due; an unpublished current year is warned about at any date
    (see `WorkingDayCalendar.needs_next_year_warning`).
    """
    return (await load_calendar(session)).needs_next_year_warning(today)


async def list_calendar_days(session: AsyncSession, year: int) -> list[SpecialDay]:
    """The special days dated in `year`: official ones and, with a tenant on the session, its county holidays.

    Sorted by date; on a date with both an official day and a county holiday, the official one comes first.
    """
    days = await OfficialCalendarRepository(session).days_in_year(year)
    if session.info.get("tenant_id") is not None:
        days += await CountyHolidayRepository(session).days_in_year(year)
    order = {kind: index for index, kind in enumerate(DayKind)}
    return sorted(days, key=lambda day: (day.date, order[day.kind]))


# --- importing a State Council notice -----------------------------------------------------------------


async def official_years(session: AsyncSession) -> list[int]:
    """The years whose State Council schedule is published (imported or seeded), ascending."""
    return await OfficialCalendarRepository(session).published_years()


async def notice_year_published(session: AsyncSession, year: int) -> bool:
    """Whether `year`'s schedule is already published (an import of its notice must then replace it)."""
    return await OfficialCalendarRepository(session).get_year(year) is not None


@dataclass(frozen=True, slots=True)
class ImportResult:
    """What an import of a State Council notice changed.

    The case-workflow layer reacts to it: every due date counted through `year` must be recomputed. When
    `newly_published` is True those due dates were provisional (counted Monday-to-Friday) and become final;
    when the notice replaced an earlier one, any due date on or after `affected_from` may move.
    `affected_from` is the earliest date added or removed, which may lie in December of `year - 1` (a New
    Year's Day holiday that begins before 1 January).
    """

    year: int
    source: str
    days_added: int
    days_removed: int
    public_holidays: int
    makeup_workdays: int
    newly_published: bool
    affected_from: dt.date
    tenants_notified: int

    @property
    def replaced(self) -> bool:
        """Whether the import replaced an already published schedule of `year`."""
        return not self.newly_published

    @property
    def published_years_changed(self) -> tuple[int, ...]:
        """The years that became published through this import: `(year,)`, or `()` for a replacement."""
        return (self.year,) if self.newly_published else ()


def _notice_source(special_days: Sequence[SpecialDay]) -> str:
    """The notice's document number: the source most of its rows name (they normally all name the same)."""
    counts = Counter(day.source for day in special_days)
    return max(counts, key=lambda source: (counts[source], source))


def _notice_summary(source: str, special_days: Sequence[SpecialDay]) -> dict[str, Any]:
    """What auditors see of a notice: its source and its days as "date name", per kind."""

    def listed(kind: DayKind) -> list[str]:
        return [f"{day.date.isoformat()} {day.name}" for day in special_days if day.kind is kind]

    return {
        "source": source,
        "public_holidays": listed(DayKind.PUBLIC_HOLIDAY),
        "makeup_workdays": listed(DayKind.MAKEUP_WORKDAY),
    }


async def _restore(session: AsyncSession, tenant_id: uuid.UUID | None, platform: str) -> None:
    """Put the transaction back in the tenant scope and platform context it had before an import."""
    if tenant_id is not None:
        await set_tenant(session, tenant_id)
    else:
        await clear_tenant(session)
    await set_platform_setting(session, platform)


async def import_official_notice(
    session: AsyncSession, text: str, fmt: NoticeFormat, *, replace: bool = False
) -> ImportResult:
    """Import a year's State Council holiday notice (CSV or JSON, see `parse_notice_import`), all or nothing.

    Runs in the platform context. Every problem of the file is reported at once (`NoticeImportError`) and
    nothing is written. A year already published is refused (`OfficialYearAlreadyPublished`) unless
    `replace` is True, which deletes that notice's days and writes the new ones. Dates already announced by
    another year's notice are refused (`NoticeDatesTaken`). The year is then recorded as published, and
    one `calendar.official_import` event is appended to every active county's audit chain, so each
    county's auditors see it. Afterwards the transaction is back in the tenant scope and platform context
    it had (on success; an error leaves a transaction the caller rolls back).

    See `ImportResult` for what the caller must recompute.
    """
    special_days = parse_notice_import(text, fmt)
    year = notice_year(special_days)
    source = _notice_source(special_days)

    previous_platform = await read_setting(session, PLATFORM_SETTING)
    await set_platform_context(session)
    repository = OfficialCalendarRepository(session)
    published = await repository.get_year(year)
    if published is not None and not replace:
        raise OfficialYearAlreadyPublished(year)
    taken = await repository.days_of_other_notices_on((day.date for day in special_days), year)
    if taken:
        raise NoticeDatesTaken(year, [(row.date, row.notice_year) for row in taken])

    before: dict[str, Any] | None = None
    removed_dates: list[dt.date] = []
    if published is None:
        try:
            await repository.insert_year(year, source)
        except IntegrityError as error:
            # A concurrent import published the year between the check and the insert.
            if "pk_official_calendar_years" in str(error.orig):
                raise OfficialYearAlreadyPublished(year) from None
            raise
    else:
        previous_days = [
            SpecialDay(date=row.date, kind=DayKind(row.kind), name=row.name, source=row.source)
            for row in await repository.days_of_notice(year)
        ]
        before = {"year": year, **_notice_summary(published.source, previous_days)}
        removed_dates = [day.date for day in previous_days]
        await repository.delete_days_of_notice(year)
        await repository.update_year(year, source)
    repository.add_days(
        [
            OfficialCalendarDay(
                id=uuid.uuid4(),
                date=day.date,
                kind=day.kind.value,
                name=day.name,
                name_en=day.name_en,
                source=day.source,
                notice_year=year,
            )
            for day in special_days
        ]
    )
    await session.flush()

    changes = audit.diff(before, {"year": year, **_notice_summary(source, special_days)})
    previous_tenant: uuid.UUID | None = session.info.get("tenant_id")
    # Chain heads are locked in county-code order, so two concurrent imports cannot deadlock.
    counties = [tenant for tenant in await TenantRepository(session).list_all() if tenant.active]
    for county in counties:
        await set_tenant(session, county.id)
        await audit.record(
            session,
            action=OFFICIAL_IMPORT_ACTION,
            entity_type="official_calendar_year",
            entity_id=str(year),
            org_unit_code=county.code,
            changes=changes,
        )
    await _restore(session, previous_tenant, previous_platform)

    return ImportResult(
        year=year,
        source=source,
        days_added=len(special_days),
        days_removed=len(removed_dates),
        public_holidays=sum(day.kind is DayKind.PUBLIC_HOLIDAY for day in special_days),
        makeup_workdays=sum(day.kind is DayKind.MAKEUP_WORKDAY for day in special_days),
        newly_published=published is None,
        affected_from=min([*removed_dates, *(day.date for day in special_days)]),
        tenants_notified=len(counties),
    )


# --- county holidays ----------------------------------------------------------------------------------


async def _county_code(session: AsyncSession) -> str | None:
    tenant = await TenantRepository(session).get(current_tenant_id(session))
    return tenant.code if tenant is not None else None


async def _audit_holiday(
    session: AsyncSession, action: str, added: CountyHoliday | None, removed: CountyHoliday | None
) -> None:
    """The county's audit event of a holiday declared (`added`) or withdrawn (`removed`)."""

    def facts(holiday: CountyHoliday | None) -> dict[str, Any] | None:
        return None if holiday is None else {"date": holiday.date, "name": holiday.name, "source": holiday.source}

    holiday = added or removed
    assert holiday is not None
    await audit.record(
        session,
        action=action,
        entity_type="county_holiday",
        entity_id=holiday.id,
        org_unit_code=await _county_code(session),
        changes=audit.diff(facts(removed), facts(added)),
    )


def _refuse_past(day: dt.date, today: dt.date | None) -> None:
    today = today or china_today()
    if day < today:
        raise CountyHolidayInPast(day, today)


async def list_county_holidays(session: AsyncSession, year: int | None = None) -> list[CountyHoliday]:
    """The tenant's county holidays (县级增设假日), optionally of one year, sorted by date."""
    return await CountyHolidayRepository(session).list_by_date(year)


async def add_county_holiday(
    session: AsyncSession, day: dt.date, name: str, source: str, *, today: dt.date | None = None
) -> CountyHoliday:
    """Declare an extra day off for the session's county; audited as `calendar.county_holiday.add`.

    Days before `today` (default: today in China) are refused: deadlines already counted over them must not
    move. A date that already is a county holiday is refused with `CountyHolidayExists`. Due dates counted
    over `day` change from now on: `declare_county_holiday` also has the stored ones recounted.
    """
    _refuse_past(day, today)
    repository = CountyHolidayRepository(session)
    if await repository.get_by_date(day) is not None:
        raise CountyHolidayExists(day)
    holiday = CountyHoliday(id=uuid.uuid4(), tenant_id=current_tenant_id(session), date=day, name=name, source=source)
    repository.add(holiday)
    try:
        await session.flush()
    except IntegrityError as error:
        # A concurrent request declared the same day between the check and the insert.
        if "uq_county_holidays_tenant_id_date" in str(error.orig):
            raise CountyHolidayExists(day) from None
        raise
    await _audit_holiday(session, COUNTY_HOLIDAY_ADD_ACTION, holiday, None)
    return holiday


async def remove_county_holiday(session: AsyncSession, day: dt.date, *, today: dt.date | None = None) -> None:
    """Withdraw a county holiday of the session's county; audited as `calendar.county_holiday.remove`.

    Days before `today` (default: today in China) are refused, like additions; a date that is not a county
    holiday gives `CountyHolidayNotFound`.
    """
    _refuse_past(day, today)
    repository = CountyHolidayRepository(session)
    holiday = await repository.get_by_date(day)
    if holiday is None:
        raise CountyHolidayNotFound(day)
    await repository.remove(holiday)
    await session.flush()
    await _audit_holiday(session, COUNTY_HOLIDAY_REMOVE_ACTION, None, holiday)


async def declare_county_holiday(session: AsyncSession, day: dt.date, name: str, source: str) -> CountyHoliday:
    """Declare a county holiday and have the open deadlines counted over it recounted in this transaction: what
    the API and the admin page both do."""
    holiday = await add_county_holiday(session, day, name, source)
    await working_days_changed(session, day, "county holiday declared")
    return holiday


async def withdraw_county_holiday(session: AsyncSession, day: dt.date) -> None:
    """Withdraw a county holiday and have the open deadlines counted over it recounted in this transaction."""
    await remove_county_holiday(session, day)
    await working_days_changed(session, day, "county holiday withdrawn")


async def working_days_changed(session: AsyncSession, first_day: dt.date, reason: str) -> None:
    """Tell the domains built on the calendar that the county's working days changed from `first_day` on
    (`WorkingDaysChanged`): they recount the open deadlines counted over it, in this transaction, and their
    workflows re-plan after commit."""
    affected_from = dt.datetime.combine(first_day, dt.time(), CHINA)
    await events.publish(session, WorkingDaysChanged(affected_from=affected_from, reason=reason))
