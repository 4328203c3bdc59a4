"""Typed errors of the working-day calendar."""

from __future__ import annotations

from backend.core.errors import FieldError, InvalidInput


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
