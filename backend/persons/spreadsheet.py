"""Reading an uploaded spreadsheet (the registry's import, 批量导入): .xlsx (first sheet) or .csv (UTF-8 or
GBK/GB18030, comma or tab), judged by its bytes alone (an .xlsx is a zip starting with PK), never by its name,
within limits on size, rows and the uncompressed size of an .xlsx (zip bombs).
"""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass
from typing import Any

from backend.core.errors import DomainError
from backend.core.spreadsheets import unwrap_text_formula
from backend.persons.errors import ImportFileRejected

MAX_IMPORT_BYTES = 10 * 1024 * 1024
MAX_IMPORT_ROWS = 20_000
# An .xlsx is compressed; refuse archives that would inflate beyond this (zip bombs).
MAX_XLSX_UNCOMPRESSED_BYTES = 200 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Table:
    """The cells of the first sheet: `rows[i] = (row number as the spreadsheet shows it, cell values)`."""

    file_format: str
    rows: list[tuple[int, list[Any]]]


def _too_many_rows() -> ImportFileRejected:
    return ImportFileRejected(
        f"超过{MAX_IMPORT_ROWS}行，请分成多个文件导入",
        f"more than {MAX_IMPORT_ROWS} rows; split the file",
        status_code=413,
        code="IMPORT_TOO_MANY_ROWS",
    )


def read_table(data: bytes) -> Table:
    """The rows of an .xlsx (first sheet) or CSV file, judged by content alone; refuses anything else."""
    if not data.strip():
        raise ImportFileRejected("文件为空", "the file is empty")
    if len(data) > MAX_IMPORT_BYTES:
        raise file_too_large()
    if data.startswith(b"PK\x03\x04"):
        return _read_xlsx(data)
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise ImportFileRejected(
            "不支持旧版 Excel（.xls）文件，请另存为 .xlsx 或 CSV",
            "old Excel (.xls) files are not supported; save as .xlsx or CSV",
            status_code=415,
            code="UNSUPPORTED_MEDIA_TYPE",
        )
    if b"\x00" in data[:4096]:
        raise ImportFileRejected(
            "不是 .xlsx 或 CSV 文件（CSV 请保存为 UTF-8 或 GBK 编码）",
            "not an .xlsx or CSV file (save CSV as UTF-8 or GBK)",
            status_code=415,
            code="UNSUPPORTED_MEDIA_TYPE",
        )
    return _read_csv(data)


def file_too_large() -> ImportFileRejected:
    """The refusal for an upload over MAX_IMPORT_BYTES (413)."""
    limit = MAX_IMPORT_BYTES // (1024 * 1024)
    return ImportFileRejected(
        f"文件超过{limit}MB上限", f"the file exceeds the {limit} MB limit", status_code=413, code="IMPORT_TOO_LARGE"
    )


def _unreadable() -> ImportFileRejected:
    return ImportFileRejected(
        "无法读取：不是有效的 .xlsx 或 CSV 文件", "unreadable: not a valid .xlsx or CSV file", code="IMPORT_UNREADABLE"
    )


def _read_xlsx(data: bytes) -> Table:
    from openpyxl import load_workbook

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = archive.infolist()
            if "xl/workbook.xml" not in {entry.filename for entry in entries}:
                raise _unreadable()
            if sum(entry.file_size for entry in entries) > MAX_XLSX_UNCOMPRESSED_BYTES:
                raise file_too_large()
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except DomainError:
        raise
    except Exception:  # any failure to parse untrusted bytes means the same to the user
        raise _unreadable() from None
    try:
        if not workbook.worksheets:
            raise _unreadable()
        rows: list[tuple[int, list[Any]]] = []
        for number, values in enumerate(workbook.worksheets[0].iter_rows(values_only=True), start=1):
            _keep_row(rows, number, list(values))
    except DomainError:
        raise
    except Exception:
        raise _unreadable() from None
    finally:
        workbook.close()
    return Table("xlsx", rows)


def _read_csv(data: bytes) -> Table:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise ImportFileRejected(
            "无法识别文件编码，请保存为 UTF-8 或 GBK 编码的 CSV",
            "unknown text encoding; save the CSV as UTF-8 or GBK",
            code="IMPORT_UNREADABLE",
        )
    first_line = text.split("\n", 1)[0]
    delimiter = "\t" if "\t" in first_line and "," not in first_line else ","
    rows: list[tuple[int, list[Any]]] = []
    try:
        for number, values in enumerate(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), start=1):
            # Digit strings exported as ="..." (so Excel and WPS keep them text) come back as the digits.
            _keep_row(rows, number, [unwrap_text_formula(value) for value in values])
    except csv.Error:
        raise _unreadable() from None
    return Table("csv", rows)


def _keep_row(rows: list[tuple[int, list[Any]]], number: int, values: list[Any]) -> None:
    """Keep the header and non-blank rows; refuse a file with more data rows than the limit (blank rows, which
    spreadsheets often carry by the thousand, neither count nor take memory)."""
    if number > 1 and not any(present(value) for value in values):
        return
    if len(rows) > MAX_IMPORT_ROWS:
        raise _too_many_rows()
    rows.append((number, values))


def present(value: Any) -> bool:
    """Whether a cell holds something (not empty, not only spaces)."""
    return value is not None and not (isinstance(value, str) and not value.strip())
