"""Register files: the spreadsheet writers of backend/core/spreadsheets.py (every export shares them: ID and
phone numbers kept as text, A4 landscape, frozen header, autofilter, the 制表单位/制表日期/页码 footer) under the
registers' names, and the 序号 (row number) column every register starts with."""

from __future__ import annotations

from backend.core.spreadsheets import CsvWriter as CsvRegisterWriter
from backend.core.spreadsheets import Footer, content_disposition
from backend.core.spreadsheets import SheetWriter as RegisterWriter
from backend.core.spreadsheets import XlsxWriter as XlsxRegisterWriter

SERIAL_KEY, SERIAL_HEADER, SERIAL_WIDTH = "serial", "序号", 6

__all__ = [
    "SERIAL_HEADER",
    "SERIAL_KEY",
    "SERIAL_WIDTH",
    "CsvRegisterWriter",
    "Footer",
    "RegisterWriter",
    "XlsxRegisterWriter",
    "content_disposition",
]
