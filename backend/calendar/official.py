"""The official schedule (国务院办公厅放假通知) as shipped by the `chinesecalendar` package.

The package's `constants.holidays` maps each day off to its holiday and `constants.workdays` maps each
make-up workday to the holiday it makes up for; the values are the English names of its `Holiday` enum.
It covers every year from 2004 up to the last notice it knows (its own functions refuse other years), and
a year in that range counts as published.
"""

from __future__ import annotations

from functools import cache
from importlib.metadata import version
from typing import Any

import chinese_calendar

from backend.calendar.workdays import DayKind, SpecialDay, WorkingDayCalendar

PACKAGE_NAME = "chinesecalendar"

# Chinese names as the notices write them. The package's own Chinese names are shortened ("清明", "端午") or
# very long, so we keep our own, keyed by the enum member's name; a holiday added by a newer package
# version falls back to the package's Chinese name.
CHINESE_HOLIDAY_NAMES: dict[str, str] = {
    "new_years_day": "元旦",
    "spring_festival": "春节",
    "tomb_sweeping_day": "清明节",
    "labour_day": "劳动节",
    "dragon_boat_festival": "端午节",
    "mid_autumn_festival": "中秋节",
    "national_day": "国庆节",
    "anti_fascist_70th_day": "抗战胜利70周年纪念日",
}


def _holiday_names(value: Any) -> tuple[str, str]:
    """(Chinese, English) names of a value of the package's holiday dicts: an English name or a member."""
    member = value if isinstance(value, chinese_calendar.Holiday) else chinese_calendar.Holiday(value)
    chinese = CHINESE_HOLIDAY_NAMES.get(member.name, str(member.chinese))
    return chinese, str(member.value)


@cache
def _official_special_days() -> tuple[SpecialDay, ...]:
    source = f"{PACKAGE_NAME} {version(PACKAGE_NAME)}"
    days: list[SpecialDay] = []
    for table, kind in (
        (chinese_calendar.holidays, DayKind.PUBLIC_HOLIDAY),
        (chinese_calendar.workdays, DayKind.MAKEUP_WORKDAY),
    ):
        for day, value in table.items():
            name, name_en = _holiday_names(value)
            days.append(SpecialDay(date=day, kind=kind, name=name, source=source, name_en=name_en))
    days.sort(key=lambda special_day: (special_day.date, special_day.kind))
    return tuple(days)


@cache
def _official_published_years() -> frozenset[int]:
    years = {day.year for day in chinese_calendar.holidays}
    return frozenset(range(min(years), max(years) + 1))


def official_special_days() -> list[SpecialDay]:
    """Every public holiday and make-up workday the `chinesecalendar` package knows, sorted by date.

    Names are Chinese ("国庆节") with the package's English name in `name_en`; the source is
    "chinesecalendar <installed version>".
    """
    return list(_official_special_days())


def official_published_years() -> set[int]:
    """The years the `chinesecalendar` package has data for: 2004 to the latest notice it ships."""
    return set(_official_published_years())


@cache
def official_calendar() -> WorkingDayCalendar:
    """The calendar of the official schedule alone (no county holidays), built once per process."""
    return WorkingDayCalendar(_official_special_days(), _official_published_years())
