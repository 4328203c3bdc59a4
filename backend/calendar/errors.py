"""Typed errors of the working-day calendar."""

from __future__ import annotations

from datetime import date

from backend.core.errors import Conflict, FieldError, InvalidInput, NotFound


class NoticeImportError(InvalidInput):
    """An imported State Council holiday notice (国务院办公厅放假通知) has problems.

    `fields` lists every problem at once, each with `loc=(row, field)` (or `("file",)` for problems with
    the file as a whole) and a bilingual message, Chinese first: "第3行 date：… / row 3 date: …".
    """

    def __init__(self, fields: list[FieldError]) -> None:
        super().__init__(
            detail=f"放假通知导入有 {len(fields)} 处错误 / the holiday notice has {len(fields)} problem(s)",
            fields=fields,
        )


class CalendarDataError(ValueError):
    """The special days handed to a calendar contradict themselves (a programming or data error, not
    user input): e.g. an official holiday in a year whose official schedule is not marked published."""


class OfficialYearAlreadyPublished(Conflict):
    """The year's official schedule is already known; importing its notice again needs `replace=True`."""

    def __init__(self, year: int) -> None:
        super().__init__(
            f"{year}年的放假安排已发布，如需更正请选择替换 / "
            f"the {year} official schedule is already published; import it with replace to correct it",
            code="CALENDAR_YEAR_PUBLISHED",
        )


class NoticeDatesTaken(Conflict):
    """Some dates of the notice are already days of another year's notice (a date has one official status)."""

    def __init__(self, year: int, taken: list[tuple[date, int]]) -> None:
        super().__init__(
            f"{year}年通知中有 {len(taken)} 个日期已属于其他年度的通知，未导入任何数据 / "
            f"{len(taken)} date(s) of the {year} notice already belong to another year's notice; "
            "nothing was imported",
            code="CALENDAR_DATES_TAKEN",
            fields=[
                FieldError(
                    ("date", day.isoformat()),
                    f"{day.isoformat()} 已属于{other_year}年的通知 / "
                    f"{day.isoformat()} already belongs to the {other_year} notice",
                )
                for day, other_year in taken
            ],
        )


class CountyHolidayExists(Conflict):
    def __init__(self, day: date) -> None:
        super().__init__(
            f"{day.isoformat()} 已是本县增设假日 / {day.isoformat()} is already a county holiday",
            code="COUNTY_HOLIDAY_EXISTS",
            fields=[FieldError(("body", "date"), "该日已是本县增设假日 / this date is already a county holiday")],
        )


class CountyHolidayNotFound(NotFound):
    def __init__(self, day: date) -> None:
        super().__init__(f"{day.isoformat()} 不是本县增设假日 / {day.isoformat()} is not a county holiday")


class CountyHolidayInPast(InvalidInput):
    """Past days are history: deadlines already counted over them must not change."""

    def __init__(self, day: date, today: date) -> None:
        super().__init__(
            f"{day.isoformat()} 早于今天 {today.isoformat()}，不能增删过去的县级假日 / "
            f"{day.isoformat()} is before today ({today.isoformat()}); past county holidays cannot be changed",
            fields=[FieldError(("body", "date"), "日期不能早于今天 / the date must not be in the past")],
        )
