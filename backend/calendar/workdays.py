"""Working days (工作日) on the Chinese official calendar, for counting statutory deadlines.

A day is a working day unless it is a public holiday (法定节假日及调休放假日) or a county-level extra holiday
(县级增设假日); Monday to Friday are working days, and so is any make-up workday (调休上班日), even a
Saturday or Sunday.

Deadlines follow the rule that the day a period starts is not counted (期间开始之日不计算在内): the due date
of "n working days from d" is the n-th working day after d.

Every query is O(log S) in the number S of special days, whatever the span: the calendar keeps the sorted
ordinals of the days whose status differs from the plain Monday-to-Friday rule, with prefix sums of those
differences, and counts plain weekdays in closed form.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from backend.calendar.errors import CalendarDataError

NOVEMBER_FIRST = (11, 1)
"""From this day (month, day) on, admins are warned when next year's official schedule is missing."""


class DayKind(StrEnum):
    """Why a date departs from the plain Monday-to-Friday rule."""

    PUBLIC_HOLIDAY = "public_holiday"
    """法定节假日或调休放假日: a day off by the State Council notice."""
    MAKEUP_WORKDAY = "makeup_workday"
    """调休上班日: a Saturday or Sunday that is worked in exchange for a day off."""
    COUNTY_HOLIDAY = "county_holiday"
    """县级增设假日: an extra day off declared by the county (e.g. an ethnic festival in an autonomous
    county)."""


HOLIDAY_KINDS = frozenset({DayKind.PUBLIC_HOLIDAY, DayKind.COUNTY_HOLIDAY})
OFFICIAL_KINDS = frozenset({DayKind.PUBLIC_HOLIDAY, DayKind.MAKEUP_WORKDAY})


@dataclass(frozen=True, slots=True)
class SpecialDay:
    """One date that departs from the plain Monday-to-Friday rule.

    `name` is Chinese ("国庆节"); `source` says where it comes from ("国办发明电〔2025〕7号",
    "chinesecalendar 1.11.0"); `name_en` keeps an English name when one is known.
    """

    date: date
    kind: DayKind
    name: str
    source: str
    name_en: str = ""


@dataclass(frozen=True, slots=True)
class DueDate:
    """The result of counting working days.

    `provisional` is True when the count went through a year whose official schedule is not published:
    that year was counted with Monday-to-Friday only, so the date must be recomputed once it is.
    """

    date: date
    provisional: bool


def _weekdays_through(ordinal: int) -> int:
    """Mondays to Fridays among ordinals 1..ordinal. Ordinal 1 (0001-01-01) is a Monday."""
    full_weeks, rest = divmod(ordinal, 7)
    return 5 * full_weeks + min(rest, 5)


class WorkingDayCalendar:
    """The working days of one tenant: the official schedule plus the county's extra holidays.

    `published_years` are the years whose official schedule (the State Council notice) is known. Official
    special days (public holidays, make-up workdays) must lie in those years, or in the December before one
    (a notice's New Year's Day holiday may begin in late December); county holidays may lie in any year.
    Any other year is counted Monday-to-Friday only and makes results provisional, even where a December
    day is known from the next year's notice.

    When several special days share a date, a holiday (public or county) wins: a county holiday on a
    make-up Saturday is a day off.
    """

    def __init__(self, special_days: Iterable[SpecialDay], published_years: Iterable[int]) -> None:
        self._published_years = frozenset(published_years)
        self._published_sorted = sorted(self._published_years)

        days_by_date: dict[date, list[SpecialDay]] = {}
        for special_day in special_days:
            if special_day.kind in OFFICIAL_KINDS and not self._may_hold_official_days(special_day.date):
                raise CalendarDataError(
                    f"{special_day.date.isoformat()} is a {special_day.kind} but "
                    f"{special_day.date.year} is not among the published years"
                )
            days_by_date.setdefault(special_day.date, []).append(special_day)
        self._days_by_date = {day: tuple(entries) for day, entries in days_by_date.items()}

        # Working status of every special date, and the dates whose status differs from Monday-to-Friday
        # (a holiday on a weekday: -1; a make-up weekend day: +1), sorted, with prefix sums.
        self._working: dict[date, bool] = {
            day: not any(entry.kind in HOLIDAY_KINDS for entry in entries) for day, entries in days_by_date.items()
        }
        exceptions = sorted(
            (day.toordinal(), 1 if working else -1)
            for day, working in self._working.items()
            if working != (day.weekday() < 5)
        )
        self._exception_ordinals = [ordinal for ordinal, _ in exceptions]
        self._exception_prefix = [0]
        for _, delta in exceptions:
            self._exception_prefix.append(self._exception_prefix[-1] + delta)

    def _may_hold_official_days(self, day: date) -> bool:
        """Whether a notice known to this calendar can name `day`: its own year's, or (in December) the next."""
        return day.year in self._published_years or (day.month == 12 and day.year + 1 in self._published_years)

    @property
    def published_years(self) -> frozenset[int]:
        """Years whose official schedule is known."""
        return self._published_years

    def is_published(self, year: int) -> bool:
        """Whether the official schedule of `year` is known."""
        return year in self._published_years

    def special_days_on(self, day: date) -> tuple[SpecialDay, ...]:
        """The special days recorded for `day` (usually none or one)."""
        return self._days_by_date.get(day, ())

    def is_working_day(self, day: date) -> bool:
        """Whether `day` is a working day: holidays are not, make-up workdays are, otherwise Monday-Friday."""
        working = self._working.get(day)
        if working is None:
            return day.weekday() < 5
        return working

    def _working_days_through(self, ordinal: int) -> int:
        """Working days among ordinals 1..ordinal: a monotone count whose differences answer every query."""
        return _weekdays_through(ordinal) + self._exception_prefix[bisect_right(self._exception_ordinals, ordinal)]

    def _all_published(self, first_year: int, last_year: int) -> bool:
        """Whether every year in first_year..last_year is published."""
        if first_year > last_year:
            return True
        years = self._published_sorted
        published = bisect_right(years, last_year) - bisect_left(years, first_year)
        return published == last_year - first_year + 1

    def working_days_between(self, start: date, end: date) -> int:
        """Working days after `start` up to and including `end` (the start day is not counted).

        Zero when `end == start`; when `end` is before `start` the result is the negative of
        `working_days_between(end, start)`. So `working_days_between(start, add_working_days(start, n).date)`
        is `n`, and the budget left when a deadline clock stops on `stopped` is
        `n - working_days_between(start, stopped)`.
        """
        return self._working_days_through(end.toordinal()) - self._working_days_through(start.toordinal())

    def add_working_days(self, start: date, n: int) -> DueDate:
        """The n-th working day after `start` (期间开始之日不计算在内: `start` itself is not counted).

        `start` may be any day, holidays included. `n == 0` gives `start` itself, never provisional (no
        calendar day was consulted). The result is provisional when a day after `start` up to the due date
        lies in a year that is not published.
        """
        if n < 0:
            raise ValueError(f"cannot count a negative number of working days ({n})")
        if n == 0:
            return DueDate(date=start, provisional=False)

        start_ordinal = start.toordinal()
        target = self._working_days_through(start_ordinal) + n
        # Bracket the answer: `low` is short of the target, `high` reaches it. Without holidays n working
        # days take at most n * 7 / 5 + 2 calendar days; widen by doubling when holidays need more.
        low = start_ordinal
        span = n * 7 // 5 + 3
        while self._working_days_through(start_ordinal + span) < target:
            low = start_ordinal + span
            span *= 2
        high = start_ordinal + span
        while high - low > 1:
            middle = (low + high) // 2
            if self._working_days_through(middle) >= target:
                high = middle
            else:
                low = middle

        due = date.fromordinal(high)
        first_examined = date.fromordinal(start_ordinal + 1)
        return DueDate(date=due, provisional=not self._all_published(first_examined.year, due.year))

    def needs_next_year_warning(self, today: date) -> int | None:
        """The year whose missing official schedule admins should be warned about, if any.

        From 1 November, next year's schedule is due (the State Council usually publishes it in
        October-December): if it is not published, that year is returned. If the current year itself is not
        published, that is more urgent still and the current year is returned whatever the date.
        """
        if today.year not in self._published_years:
            return today.year
        if (today.month, today.day) >= NOVEMBER_FIRST and today.year + 1 not in self._published_years:
            return today.year + 1
        return None
