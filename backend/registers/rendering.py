"""Register files: one writer per format, fed the same header and rows whatever the register.

- CSV: UTF-8 with a byte-order mark, so Excel on Chinese Windows opens it as UTF-8 rather than GBK; Chinese
  header row; dates as YYYY-MM-DD; text that a spreadsheet would take for a formula (= + - @) is prefixed
  with an apostrophe (CSV injection).
- XLSX: openpyxl in write-only mode (rows stream to disk, so a county-wide register does not sit in memory as
  cell objects), a title row, the header row, panes frozen below the header and right of the name, column
  widths, the header repeated on every printed page, real date cells.

Writers write into a spooled temporary file (memory first, disk past a few megabytes), which the endpoint
streams back after the request's transaction has ended.
"""

from __future__ import annotations

import contextlib
import csv
import io
import tempfile
from collections.abc import Sequence
from datetime import date
from typing import IO, Protocol
from urllib.parse import quote

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from backend.registers.definitions import Cell

SERIAL_KEY, SERIAL_HEADER, SERIAL_WIDTH = "serial", "序号", 6
SPOOL_IN_MEMORY = 4 * 1024 * 1024
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_SHEET_TITLE_FORBIDDEN = str.maketrans({character: "_" for character in "[]:*?/\\"})


class RegisterWriter(Protocol):
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


def _csv_text(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, int):
        return str(value)
    return "'" + value if value.startswith(_FORMULA_STARTS) else value


class CsvRegisterWriter:
    media_type = "text/csv; charset=utf-8"
    extension = "csv"

    def __init__(self, headers: Sequence[str]) -> None:
        self._file = _spool()
        self._file.write("\ufeff".encode())
        self.write_rows([list(headers)])

    def write_rows(self, rows: Sequence[Sequence[Cell]]) -> None:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerows([[_csv_text(value) for value in row] for row in rows])
        self._file.write(buffer.getvalue().encode("utf-8"))

    def finish(self) -> IO[bytes]:
        self._file.seek(0)
        return self._file

    def discard(self) -> None:
        self._file.close()


class XlsxRegisterWriter:
    media_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    extension = "xlsx"

    def __init__(self, title: str, sheet_name: str, headers: Sequence[str], widths: Sequence[int]) -> None:
        self._workbook = Workbook(write_only=True)
        self._sheet = self._workbook.create_sheet(title=sheet_name.translate(_SHEET_TITLE_FORBIDDEN)[:31])
        # Write-only sheets take column and view settings only before the first row.
        for index, width in enumerate(widths, start=1):
            self._sheet.column_dimensions[get_column_letter(index)].width = width
        self._sheet.freeze_panes = "C3"
        self._sheet.print_title_rows = "2:2"
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
            if text.startswith("="):
                # Text, never a formula: openpyxl would otherwise store "=..." as one.
                cell = WriteOnlyCell(self._sheet, value=text)
                cell.data_type = "s"
                return cell
            return text
        return value

    def write_rows(self, rows: Sequence[Sequence[Cell]]) -> None:
        for row in rows:
            self._sheet.append([self._cell(value) for value in row])

    def finish(self) -> IO[bytes]:
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
