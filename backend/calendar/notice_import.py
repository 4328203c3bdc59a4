"""Reading an admin's import of a new year's State Council holiday notice (国务院办公厅放假通知).

The file lists the notice's days as CSV (header `date,kind,name,source`) or as a JSON list of objects with
the same keys. `kind` is `public_holiday` (放假) or `makeup_workday` (调休上班). Every row is checked and all
problems are reported at once, each with its row number and field:

- CSV rows are numbered as the file's lines (the header is line 1), as a spreadsheet or editor shows them;
- JSON rows are numbered by position in the list, from 1.

One notice covers one year, but a New Year's Day holiday (元旦) often begins in late December: the 2019
notice made 2018-12-29 a make-up workday and 2018-12-30/31 days off. December days named for New Year's Day
therefore count toward the next year's notice (`notice_year_of`).
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Literal

from backend.calendar.errors import NoticeImportError
from backend.calendar.workdays import DayKind, SpecialDay
from backend.core.errors import FieldError

NoticeFormat = Literal["csv", "json"]

NOTICE_COLUMNS = ("date", "kind", "name", "source")
IMPORTABLE_KINDS = (DayKind.PUBLIC_HOLIDAY, DayKind.MAKEUP_WORKDAY)
MAX_LENGTHS = {"name": 50, "source": 100}
FILE_LOC = "file"

# How a row names the New Year's Day holiday: "元旦" in Chinese notices, "New Year's Day" in the package's
# English names. Matched as a substring, case-insensitively, so "元旦假期" or "new year's day" count too.
NEW_YEARS_DAY_NAMES = ("元旦", "new year")

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
_WEEKDAYS_ZH = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")
_WEEKDAYS_EN = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass(frozen=True, slots=True)
class _RawRow:
    number: int
    values: Mapping[str, object]


@dataclass(frozen=True, slots=True)
class _ParsedRow:
    number: int
    day: date | None
    kind: DayKind | None
    name: str | None
    source: str | None


class _Problems:
    """Collects problems; sorted by row so the admin reads them top to bottom."""

    def __init__(self) -> None:
        self._items: list[tuple[int, int, FieldError]] = []

    def add_row(self, row: int, column: str | None, zh: str, en: str) -> None:
        """A problem with one field of a row, or with the whole row when `column` is None."""
        if column is None:
            self._items.append((row, -1, FieldError(loc=(row,), msg=f"第{row}行：{zh} / row {row}: {en}")))
            return
        order = NOTICE_COLUMNS.index(column) if column in NOTICE_COLUMNS else -1
        self._items.append(
            (
                row,
                order,
                FieldError(loc=(row, column), msg=f"第{row}行 {column}：{zh} / row {row} {column}: {en}"),
            )
        )

    def add_file(self, zh: str, en: str) -> None:
        self._items.append((0, -1, FieldError(loc=(FILE_LOC,), msg=f"文件：{zh} / file: {en}")))

    def __bool__(self) -> bool:
        return bool(self._items)

    def as_fields(self) -> list[FieldError]:
        return [problem for _, _, problem in sorted(self._items, key=lambda item: (item[0], item[1]))]


def is_new_years_day_name(name: str) -> bool:
    """Whether a holiday name denotes New Year's Day (元旦)."""
    folded = name.casefold()
    return any(word in folded for word in NEW_YEARS_DAY_NAMES)


def notice_year_of(day: date, name: str) -> int:
    """The year of the notice a special day belongs to.

    That is the day's own year, except for December days of the New Year's Day holiday (元旦) and its make-up
    workdays, which the next year's notice announces (e.g. 2018-12-30 belongs to the 2019 notice).
    """
    if day.month == 12 and is_new_years_day_name(name):
        return day.year + 1
    return day.year


def notice_year(special_days: Iterable[SpecialDay]) -> int:
    """The year of a notice: the year most of its days belong to (see `notice_year_of`), the later on a tie."""
    counts = Counter(notice_year_of(special_day.date, special_day.name) for special_day in special_days)
    if not counts:
        raise ValueError("a notice without days has no year")
    return max(counts, key=lambda year: (counts[year], year))


def parse_notice_import(text: str, fmt: NoticeFormat) -> list[SpecialDay]:
    """The special days of one notice, sorted by date, or `NoticeImportError` listing every problem.

    Besides each field's own checks, the rows together must not repeat a date (nor make one day both a day
    off and a make-up workday), a make-up workday must fall on a Saturday or Sunday, and all rows must belong
    to one year: one notice covers one year, December days of its New Year's Day holiday (元旦) included
    (`notice_year_of`; `notice_year` gives the year of the days returned).
    """
    problems = _Problems()
    if fmt == "csv":
        raw_rows = _read_csv(text, problems)
    elif fmt == "json":
        raw_rows = _read_json(text, problems)
    else:
        raise ValueError(f"unknown notice format {fmt!r}")
    if not raw_rows and not problems:
        problems.add_file("没有任何日期", "contains no dates")

    parsed_rows = [_parse_row(raw_row, problems) for raw_row in raw_rows]
    _check_rows_together(parsed_rows, problems)
    if problems:
        raise NoticeImportError(problems.as_fields())

    special_days = [
        SpecialDay(date=row.day, kind=row.kind, name=row.name, source=row.source)
        for row in parsed_rows
        if row.day is not None and row.kind is not None and row.name is not None and row.source is not None
    ]
    return sorted(special_days, key=lambda special_day: special_day.date)


def _read_csv(text: str, problems: _Problems) -> list[_RawRow]:
    # Spreadsheets often save CSV with a byte-order mark.
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff")))
    rows: list[_RawRow] = []
    header: list[str] | None = None
    first_line = 1
    try:
        for cells in reader:
            line = first_line
            first_line = reader.line_num + 1
            if not any(cell.strip() for cell in cells):
                continue
            if header is None:
                header = [cell.strip().lower() for cell in cells]
                if not _header_is_valid(header, line, problems):
                    return []
                continue
            if len(cells) != len(header):
                problems.add_row(
                    line,
                    None,
                    f"应有{len(header)}列，实际为{len(cells)}列",
                    f"expected {len(header)} columns, got {len(cells)}",
                )
                continue
            rows.append(_RawRow(number=line, values=dict(zip(header, cells, strict=True))))
    except csv.Error as error:
        problems.add_file(f"CSV 格式错误（第{reader.line_num}行）", f"malformed CSV (line {reader.line_num}): {error}")
        return []
    if header is None:
        problems.add_file(
            "文件为空，应有表头 date,kind,name,source", "empty; expected the header date,kind,name,source"
        )
    return rows


def _header_is_valid(header: list[str], line: int, problems: _Problems) -> bool:
    missing = [column for column in NOTICE_COLUMNS if column not in header]
    unknown = [column for column in header if column not in NOTICE_COLUMNS]
    repeated = sorted({column for column in header if header.count(column) > 1})
    if missing:
        problems.add_row(line, "header", f"缺少列 {', '.join(missing)}", f"missing column(s) {', '.join(missing)}")
    if unknown:
        problems.add_row(line, "header", f"未知列 {', '.join(unknown)}", f"unknown column(s) {', '.join(unknown)}")
    if repeated:
        problems.add_row(line, "header", f"重复列 {', '.join(repeated)}", f"repeated column(s) {', '.join(repeated)}")
    return not (missing or unknown or repeated)


def _read_json(text: str, problems: _Problems) -> list[_RawRow]:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        problems.add_file(
            f"不是有效的 JSON（第{error.lineno}行第{error.colno}列）",
            f"not valid JSON (line {error.lineno}, column {error.colno}): {error.msg}",
        )
        return []
    if not isinstance(document, list):
        problems.add_file("应为对象列表", "expected a list of objects")
        return []
    rows: list[_RawRow] = []
    for number, item in enumerate(document, start=1):
        if not isinstance(item, dict):
            problems.add_row(number, None, "应为对象", "expected an object")
            continue
        unknown = [str(key) for key in item if key not in NOTICE_COLUMNS]
        if unknown:
            problems.add_row(number, None, f"未知字段 {', '.join(unknown)}", f"unknown key(s) {', '.join(unknown)}")
        rows.append(_RawRow(number=number, values=item))
    return rows


def _text_value(row: _RawRow, column: str, problems: _Problems) -> str | None:
    """The stripped, non-empty text of one field, or None after recording why not."""
    if column not in row.values:
        problems.add_row(row.number, column, "缺少该字段", "field is missing")
        return None
    value = row.values[column]
    if not isinstance(value, str):
        problems.add_row(row.number, column, "应为文本", "expected a string")
        return None
    value = value.strip()
    if not value:
        problems.add_row(row.number, column, "不能为空", "must not be empty")
        return None
    return value


def _parse_row(row: _RawRow, problems: _Problems) -> _ParsedRow:
    day: date | None = None
    date_text = _text_value(row, "date", problems)
    if date_text is not None:
        if not _ISO_DATE.fullmatch(date_text):
            problems.add_row(row.number, "date", "日期格式应为 YYYY-MM-DD", "expected YYYY-MM-DD")
        else:
            try:
                day = date.fromisoformat(date_text)
            except ValueError:
                problems.add_row(row.number, "date", f"日期 {date_text} 不存在", f"{date_text} is not a real date")

    kind: DayKind | None = None
    kind_text = _text_value(row, "kind", problems)
    if kind_text is not None:
        if kind_text in IMPORTABLE_KINDS:
            kind = DayKind(kind_text)
        elif kind_text == DayKind.COUNTY_HOLIDAY:
            problems.add_row(
                row.number,
                "kind",
                "县级增设假日不属于国务院放假通知，请在县级假日中维护",
                "county holidays are not part of the State Council notice; maintain them as county holidays",
            )
        else:
            problems.add_row(
                row.number,
                "kind",
                "类型应为 public_holiday（放假）或 makeup_workday（调休上班）",
                "expected public_holiday or makeup_workday",
            )

    texts: dict[str, str | None] = {}
    for column in ("name", "source"):
        value = _text_value(row, column, problems)
        if value is not None and len(value) > MAX_LENGTHS[column]:
            problems.add_row(
                row.number,
                column,
                f"不能超过{MAX_LENGTHS[column]}个字符",
                f"at most {MAX_LENGTHS[column]} characters",
            )
            value = None
        elif value is not None and any(character in value for character in "\r\n"):
            problems.add_row(row.number, column, "不能包含换行", "must not contain line breaks")
            value = None
        texts[column] = value
    return _ParsedRow(number=row.number, day=day, kind=kind, name=texts["name"], source=texts["source"])


def _check_rows_together(rows: list[_ParsedRow], problems: _Problems) -> None:
    dated = [(row, row.day) for row in rows if row.day is not None]

    first_by_date: dict[date, _ParsedRow] = {}
    for row, day in dated:
        first = first_by_date.setdefault(day, row)
        if first is row:
            continue
        if row.kind is not None and first.kind is not None and row.kind != first.kind:
            problems.add_row(
                row.number,
                "date",
                f"与第{first.number}行日期重复，同一天不能既放假又调休上班",
                f"same date as row {first.number}; a day cannot be both a holiday and a make-up workday",
            )
        else:
            problems.add_row(row.number, "date", f"与第{first.number}行日期重复", f"same date as row {first.number}")

    for row, day in dated:
        if row.kind is DayKind.MAKEUP_WORKDAY and day.weekday() < 5:
            weekday = day.weekday()
            problems.add_row(
                row.number,
                "date",
                f"调休上班日应为周六或周日，{day.isoformat()}（{_WEEKDAYS_ZH[weekday]}）本来就是工作日",
                f"a make-up workday must be a Saturday or Sunday; {day.isoformat()} "
                f"({_WEEKDAYS_EN[weekday]}) is already a working day",
            )

    # One notice covers one year: the year most rows belong to is the notice's, the others are reported.
    # December days of New Year's Day (元旦) belong to the next year's notice.
    row_years = [(row, day, notice_year_of(day, row.name or "")) for row, day in dated]
    year_counts = Counter(year for _, _, year in row_years)
    if len(year_counts) > 1:
        year = max(year_counts, key=lambda candidate: (year_counts[candidate], candidate))
        for row, day, row_year in row_years:
            if row_year == year:
                continue
            zh = f"一份通知只能包含一个年度，本通知为{year}年"
            en = f"one notice covers one year; this notice is for {year}"
            if day.month == 12 and day.year == year - 1:
                zh += "；上一年12月的日期只能属于元旦假期（name 应为“元旦”）"
                en += "; December dates of the previous year may only belong to New Year's Day (name 元旦)"
            elif day.month == 12 and row_year == day.year + 1:
                zh += f"；12月的元旦假期属于{row_year}年的通知"
                en += f"; December days of New Year's Day belong to the {row_year} notice"
            problems.add_row(row.number, "date", zh, en)
