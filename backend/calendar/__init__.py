"""The working-day calendar (工作日历): statutory deadlines counted in working days (工作日) on the Chinese
official calendar, make-up workdays (调休上班日) included, plus county-level extra holidays.

`workdays`, `official` and `notice_import` are pure logic: no database and no I/O apart from reading the
`chinesecalendar` package's data; importing this package loads only them. `repository` and `service` keep
the calendar in the database (official schedule, county holidays, notice imports) and are imported
explicitly.
"""

from backend.calendar.errors import CalendarDataError, NoticeImportError
from backend.calendar.notice_import import notice_year, notice_year_of, parse_notice_import
from backend.calendar.official import official_calendar, official_published_years, official_special_days
from backend.calendar.workdays import DayKind, DueDate, SpecialDay, WorkingDayCalendar

__all__ = [
    "CalendarDataError",
    "DayKind",
    "DueDate",
    "NoticeImportError",
    "SpecialDay",
    "WorkingDayCalendar",
    "notice_year",
    "notice_year_of",
    "official_calendar",
    "official_published_years",
    "official_special_days",
    "parse_notice_import",
]
