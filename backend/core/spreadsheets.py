"""Spreadsheet files people open in Excel or WPS: one CSV writer and one XLSX writer for every export (the
registers, the registry, cases, verification requests, the audit search) and the registry's import template.

Kept as text, wherever they appear: ID numbers, phone numbers and division codes, i.e. any cell of six or more
digits (an ID number may end in X). Excel and WPS turn a bare 18-digit number into `1.10101E+17` and lose its
last three digits, a leading zero vanishes, and the importer then (rightly) refuses the file.
- CSV: UTF-8 with a byte-order mark (so Excel on Chinese Windows reads UTF-8, not GBK); such a cell is written
  `="110101199003071234"`, the form both Excel and WPS open as text and keep when the file is saved again
  (the importer reads it back as the digits); dates as YYYY-MM-DD; other text a spreadsheet would take for a
  formula (= + - @) is prefixed with an apostrophe (CSV injection).
- XLSX: openpyxl in write-only mode (rows stream to disk), a title row, the header row, panes frozen below the
  header, an autofilter on the header, column widths, such cells as strings in the Text format (`@`, so an
  edit keeps them text), real date cells; printed on A4 landscape, fit to the page width, the header row
  repeated on every page, and a footer 制表单位 / 第 N 页，共 M 页 / 制表日期.

Writers write into a spooled temporary file (memory first, disk past a few megabytes), which the endpoint
streams back after the request's transaction has ended.
"""

from __future__ import annotations

import contextlib
import csv
import io
import re
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from typing import IO, Protocol
from urllib.parse import quote

from fastapi.responses import StreamingResponse
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

Cell = str | int | date | None

SPOOL_IN_MEMORY = 4 * 1024 * 1024
CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
TEXT_FORMAT = "@"
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_SHEET_TITLE_FORBIDDEN = str.maketrans({character: "_" for character in "[]:*?/\\"})
# Six or more digits, an ID number's final X allowed: what a spreadsheet would turn into a number.
_DIGITS = re.compile(r"[0-9]{5,}[0-9Xx]")
_TEXT_FORMULA = re.compile(r'="([^"]*)"')


def keeps_as_text(value: str) -> bool:
    """Whether a spreadsheet would mangle this text as a number (ID, phone and division-code cells)."""
    return _DIGITS.fullmatch(value) is not None


def unwrap_text_formula(value: str) -> str:
    """`="110101199003071234"` (how the CSV exports write digit strings) back to the digits; anything else
    as it is. The importer reads cells through this, so an exported file imports again."""
    match = _TEXT_FORMULA.fullmatch(value.strip())
    return match.group(1) if match else value


@dataclass(frozen=True, slots=True)
class Footer:
    """The printed footer of an XLSX export: who made the table and when (制表单位, 制表日期)."""

    unit: str
    made_on: date


class SheetWriter(Protocol):
    media_type: str
    extension: str

    def write_rows(self, rows: Sequence[Sequence[Cell]]) -> None: ...

    def finish(self) -> IO[bytes]:
        """The finished file, positioned at its start; the caller closes it."""
        ...

    def discard(self) -> None:
        """Drop a file that will not be finished (the export failed half-way)."""
        ...


def _spool() -> IO[bytes]:
    return tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY, mode="w+b")  # closed by the caller


def csv_text(value: Cell) -> str:
    """One cell as CSV text: digit strings as `="..."`, formula-like text escaped with an apostrophe."""
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, int):
        return str(value)
    if keeps_as_text(value):
        return f'="{value}"'
    return "'" + value if value.startswith(_FORMULA_STARTS) else value


class CsvWriter:
    media_type = CSV_MEDIA_TYPE
    extension = "csv"

    def __init__(self, headers: Sequence[str]) -> None:
        self._file = _spool()
        self._file.write("\ufeff".encode())
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\r\n").writerow(list(headers))
        self._file.write(buffer.getvalue().encode("utf-8"))

    def write_rows(self, rows: Sequence[Sequence[Cell]]) -> None:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerows([[csv_text(value) for value in row] for row in rows])
        self._file.write(buffer.getvalue().encode("utf-8"))

    def finish(self) -> IO[bytes]:
        self._file.seek(0)
        return self._file

    def discard(self) -> None:
        self._file.close()


def prepare_print(sheet: object, *, footer: Footer | None, header_row: int) -> None:
    """A4 landscape, fit to the page width (as many pages down as needed), the header row on every printed
    page, and the 制表单位 / 页码 / 制表日期 footer."""
    sheet.page_setup.paperSize = 9  # type: ignore[attr-defined]  # A4
    sheet.page_setup.orientation = "landscape"  # type: ignore[attr-defined]
    sheet.page_setup.fitToWidth = 1  # type: ignore[attr-defined]
    sheet.page_setup.fitToHeight = 0  # type: ignore[attr-defined]
    sheet.sheet_properties.pageSetUpPr.fitToPage = True  # type: ignore[attr-defined]
    sheet.print_title_rows = f"{header_row}:{header_row}"  # type: ignore[attr-defined]
    if footer is not None:
        sheet.oddFooter.left.text = f"制表单位：{footer.unit}"  # type: ignore[attr-defined]
        sheet.oddFooter.center.text = "第 &P 页，共 &N 页"  # type: ignore[attr-defined]
        sheet.oddFooter.right.text = f"制表日期：{footer.made_on.isoformat()}"  # type: ignore[attr-defined]


class XlsxWriter:
    media_type = XLSX_MEDIA_TYPE
    extension = "xlsx"

    def __init__(
        self,
        title: str | None,
        sheet_name: str,
        headers: Sequence[str],
        widths: Sequence[int],
        *,
        footer: Footer | None = None,
        frozen_columns: int = 2,
    ) -> None:
        """`title` goes in a first row above the header; None puts the header in row 1, as the registry's
        importer reads it (an exported registry file imports again)."""
        self._workbook = Workbook(write_only=True)
        self._sheet = self._workbook.create_sheet(title=sheet_name.translate(_SHEET_TITLE_FORBIDDEN)[:31])
        self._columns = len(headers)
        self._rows = 0
        self._header_row = 1 if title is None else 2
        # Write-only sheets take column, view and print settings only before the first row.
        for index, width in enumerate(widths, start=1):
            self._sheet.column_dimensions[get_column_letter(index)].width = width
        self._sheet.freeze_panes = f"{get_column_letter(frozen_columns + 1)}{self._header_row + 1}"
        prepare_print(self._sheet, footer=footer, header_row=self._header_row)
        if title is not None:
            title_cell = WriteOnlyCell(self._sheet, value=title)
            title_cell.font = Font(bold=True, size=14)
            self._sheet.append([title_cell])
        header_font, header_fill = Font(bold=True), PatternFill("solid", fgColor="DDDDDD")
        header_cells = []
        for header in headers:
            cell = WriteOnlyCell(self._sheet, value=header)
            cell.font, cell.fill = header_font, header_fill
            cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
            header_cells.append(cell)
        self._sheet.append(header_cells)

    def _cell(self, value: Cell) -> object:
        if isinstance(value, date):
            cell = WriteOnlyCell(self._sheet, value=value)
            cell.number_format = "yyyy-mm-dd"
            return cell
        if isinstance(value, str):
            text = ILLEGAL_CHARACTERS_RE.sub("", value)
            if text.startswith("=") or keeps_as_text(text):
                # Text, never a formula or a number: openpyxl would store "=..." as a formula, and the Text
                # format keeps a digit string text when someone edits the cell.
                cell = WriteOnlyCell(self._sheet, value=text)
                cell.data_type = "s"
                cell.number_format = TEXT_FORMAT
                return cell
            return text
        return value

    def write_rows(self, rows: Sequence[Sequence[Cell]]) -> None:
        for row in rows:
            self._sheet.append([self._cell(value) for value in row])
        self._rows += len(rows)

    def finish(self) -> IO[bytes]:
        last = f"{get_column_letter(self._columns)}{self._header_row + self._rows}"
        self._sheet.auto_filter.ref = f"A{self._header_row}:{last}"
        output = _spool()
        self._workbook.save(output)
        output.seek(0)
        return output

    def discard(self) -> None:
        # Saving is openpyxl's one public way to remove a write-only sheet's temporary file; a workbook broken by
        # the failure may refuse, and then the file goes at process exit (openpyxl registers it for that).
        with contextlib.suppress(Exception), _spool() as sink:
            self._workbook.save(sink)


def content_disposition(filename: str, fallback: str) -> str:
    """`attachment` with an ASCII fallback name and the real (Chinese) name per RFC 5987 / RFC 6266."""
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def file_chunks(content: IO[bytes], chunk_size: int = 64 * 1024) -> Iterator[bytes]:
    """A finished file as a streaming response body; the file is closed when the body ends."""
    try:
        while chunk := content.read(chunk_size):
            yield chunk
    finally:
        content.close()


SPREADSHEET_RESPONSE_TYPES = {
    "text/csv": {"schema": {"type": "string", "format": "binary"}},
    XLSX_MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}},
}


def download(
    content: IO[bytes], media_type: str, filename: str, ascii_filename: str, **headers: str
) -> StreamingResponse:
    """The streaming answer of an export: the finished file as an attachment, never cached."""
    return StreamingResponse(
        file_chunks(content),
        media_type=media_type,
        headers={
            "Content-Disposition": content_disposition(filename, ascii_filename),
            "Cache-Control": "no-store",
            **headers,
        },
    )
