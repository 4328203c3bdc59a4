"""The working-day calendar (工作日历): statutory deadlines counted in working days (工作日) on the Chinese
official calendar, make-up workdays (调休上班日) included, plus county-level extra holidays.

Pure logic: no database and no I/O apart from reading the `chinesecalendar` package's data.
"""

from backend.calendar.errors import CalendarDataError, NoticeImportError
from backend.calendar.notice_import import parse_notice_import
from backend.calendar.official import official_calendar, official_published_years, official_special_days
from backend.calendar.workdays import DayKind, DueDate, SpecialDay, WorkingDayCalendar

__all__ = [
    "CalendarDataError",
    "DayKind",
    "DueDate",
    "NoticeImportError",
    "SpecialDay",
    "WorkingDayCalendar",
    "official_calendar",
    "official_published_years",
    "official_special_days",
    "parse_notice_import",
]
