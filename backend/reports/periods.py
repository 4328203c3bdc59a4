"""Statistical periods: the month, the quarter, the calendar year and the family-planning statistical year
(计生统计年度), which runs from 1 October to 30 September: 「计划生育统计2011前9个月(即:2010年10月1日至2011年6月)」
(spec P20). The FP year is named by the year it ends in: FP year 2026 is 2025-10-01 to 2026-09-30.

A period is a run of whole months, its days counted in China time (an event at 23:59 on 30 September China time
belongs to the year that ends that day, one at 00:00 on 1 October to the next). Keys as the API takes them:
`2026-03` (month), `2026-Q1` (quarter), `2026` (year), `FY2026` (FP year).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from backend.core.clock import start_of_day
from backend.reports.errors import InvalidPeriod
from backend.reports.types import PeriodKind

FP_YEAR_FIRST_MONTH = 10  # 1 October
TREND_MONTHS = 12

_KEY_PATTERNS = {
    PeriodKind.month: re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$"),
    PeriodKind.quarter: re.compile(r"^(\d{4})-Q([1-4])$"),
    PeriodKind.year: re.compile(r"^(\d{4})$"),
    PeriodKind.fp_year: re.compile(r"^FY(\d{4})$"),
}
KIND_LABELS = {
    PeriodKind.month: "月报 / Monthly",
    PeriodKind.quarter: "季报 / Quarterly",
    PeriodKind.year: "年报 / Annual",
    PeriodKind.fp_year: "计生统计年报 / FP statistical year",
}


def add_months(month: date, count: int) -> date:
    """The first day of the month `count` months after (or before) the month of `month`."""
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def month_of(day: date) -> date:
    return day.replace(day=1)


@dataclass(frozen=True, slots=True)
class Period:
    """[start, end] in whole days (China time), a run of whole months."""

    kind: PeriodKind
    start: date
    end: date

    @property
    def key(self) -> str:
        if self.kind is PeriodKind.month:
            return f"{self.start:%Y-%m}"
        if self.kind is PeriodKind.quarter:
            return f"{self.start.year}-Q{(self.start.month - 1) // 3 + 1}"
        if self.kind is PeriodKind.year:
            return str(self.start.year)
        return f"FY{self.end.year}"

    @property
    def label(self) -> str:
        """The period as printed on a report: 2026年3月 / 2026年第1季度 / 2026年 / 2026计生统计年度."""
        if self.kind is PeriodKind.month:
            return f"{self.start.year}年{self.start.month}月"
        if self.kind is PeriodKind.quarter:
            return f"{self.start.year}年第{(self.start.month - 1) // 3 + 1}季度"
        if self.kind is PeriodKind.year:
            return f"{self.start.year}年"
        return f"{self.end.year}计生统计年度（{self.start.isoformat()}至{self.end.isoformat()}）"

    @property
    def label_en(self) -> str:
        if self.kind is PeriodKind.month:
            return f"{self.start:%B %Y}"
        if self.kind is PeriodKind.quarter:
            return f"Q{(self.start.month - 1) // 3 + 1} {self.start.year}"
        if self.kind is PeriodKind.year:
            return str(self.start.year)
        return f"FP year {self.end.year} ({self.start.isoformat()} to {self.end.isoformat()})"

    @property
    def begins_at(self) -> datetime:
        """00:00 China time on the first day."""
        return start_of_day(self.start)

    @property
    def ends_before(self) -> datetime:
        """00:00 China time on the day after the last: the period is [begins_at, ends_before)."""
        return start_of_day(add_months(month_of(self.end), 1))

    def months(self) -> list[date]:
        """The first day of each month of the period, in order."""
        months, month = [], self.start
        while month <= self.end:
            months.append(month)
            month = add_months(month, 1)
        return months

    def previous(self) -> Period:
        return period_containing(self.kind, add_months(self.start, -1))

    def following(self) -> Period:
        return period_containing(self.kind, add_months(month_of(self.end), 1))


def _last_day(first_month: date, months: int) -> date:
    return date.fromordinal(add_months(first_month, months).toordinal() - 1)


def period_containing(kind: PeriodKind, day: date) -> Period:
    """The period of this kind that `day` falls in."""
    if kind is PeriodKind.month:
        first, length = month_of(day), 1
    elif kind is PeriodKind.quarter:
        first, length = date(day.year, (day.month - 1) // 3 * 3 + 1, 1), 3
    elif kind is PeriodKind.year:
        first, length = date(day.year, 1, 1), 12
    else:
        year = day.year if day.month >= FP_YEAR_FIRST_MONTH else day.year - 1
        first, length = date(year, FP_YEAR_FIRST_MONTH, 1), 12
    return Period(kind, first, _last_day(first, length))


def fp_year(year: int) -> Period:
    """FP statistical year `year`: 1 October of the year before to 30 September of `year`."""
    return period_containing(PeriodKind.fp_year, date(year, 9, 30))


def parse_period(kind: PeriodKind, key: str, *, field: str = "period") -> Period:
    """The period named by `key` (2026-03, 2026-Q1, 2026, FY2026); 422 naming `field` otherwise."""
    match = _KEY_PATTERNS[kind].fullmatch(key.strip())
    if match is None:
        raise InvalidPeriod(field, kind)
    year = int(match.group(1))
    if not 2000 <= year <= 2100:
        raise InvalidPeriod(field, kind)
    if kind is PeriodKind.month:
        return period_containing(kind, date(year, int(match.group(2)), 1))
    if kind is PeriodKind.quarter:
        return period_containing(kind, date(year, (int(match.group(2)) - 1) * 3 + 1, 1))
    if kind is PeriodKind.year:
        return period_containing(kind, date(year, 1, 1))
    return fp_year(year)


def trend_months(period: Period, today: date) -> list[date]:
    """The months of the cockpit's trend: the twelve ending with the period's last month, or with the current
    month when the period is not over; never a month that has not begun."""
    last = min(month_of(period.end), month_of(today))
    return [add_months(last, offset) for offset in range(-(TREND_MONTHS - 1), 1)]
