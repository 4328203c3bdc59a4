"""The statistical report as an XLSX file, ready to print and file: A4 landscape, fitted to the page width, the
two header rows (group and column) frozen and repeated on every printed page, subtotals and the total in bold,
and 制表单位 / 制表日期 both under the table and in the printed footer, with the page number.

A published version prints its version, publisher and as-of moment; a live report says it is not published.
"""

from __future__ import annotations

import io
import re
from datetime import date

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from backend.core.clock import CHINA, china_day
from backend.reports.figures.columns import COLUMNS
from backend.reports.schemas import ReportRead

MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FIRST_DATA_ROW = 5  # title, period line, group headers, column headers
UNIT_WIDTH = 22
_THIN = Side(style="thin", color="999999")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_UNSAFE_IN_FILENAME = re.compile(r'[\\/:*?"<>|\s]+')


def _status_line(report: ReportRead) -> str:
    if report.version is None:
        return f"未发布（截至 {report.as_of.astimezone(CHINA).strftime('%Y-%m-%d %H:%M')} 的实时数据）"
    published = report.published_at.astimezone(CHINA).strftime("%Y-%m-%d %H:%M") if report.published_at else ""
    line = f"已发布 第{report.version}版 · 发布人 {report.published_by} · 发布时间 {published}"
    if report.correction_reason:
        line += f" · 更正理由：{report.correction_reason}"
    return line


def _headers(sheet: Worksheet) -> None:
    bold, fill = Font(bold=True), PatternFill("solid", fgColor="DDDDDD")
    centre = Alignment(horizontal="center", vertical="center", wrap_text=True)
    sheet.cell(row=3, column=1, value="单位")
    sheet.merge_cells(start_row=3, start_column=1, end_row=4, end_column=1)
    column = 2
    groups: list[tuple[str, int, int]] = []
    for index, report_column in enumerate(COLUMNS):
        if not groups or groups[-1][0] != report_column.group:
            groups.append((report_column.group, column + index, column + index))
        else:
            groups[-1] = (groups[-1][0], groups[-1][1], column + index)
        sheet.cell(row=4, column=column + index, value=report_column.header)
    for group, first, last in groups:
        sheet.cell(row=3, column=first, value=group)
        if last > first:
            sheet.merge_cells(start_row=3, start_column=first, end_row=3, end_column=last)
    for row in (3, 4):
        for index in range(1, len(COLUMNS) + 2):
            cell = sheet.cell(row=row, column=index)
            cell.font, cell.fill, cell.alignment, cell.border = bold, fill, centre, _BORDER


def report_workbook(report: ReportRead, made_on: date) -> bytes:
    """The report as XLSX bytes (a report has tens to hundreds of rows: built in memory)."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = report.period.key.replace(":", "_")[:31]
    last_column = get_column_letter(len(COLUMNS) + 1)
    sheet["A1"] = f"{report.title}（{report.period.label}）"
    sheet["A1"].font = Font(bold=True, size=14)
    sheet["A1"].alignment = Alignment(horizontal="center")
    sheet.merge_cells(f"A1:{last_column}1")
    sheet["A2"] = (
        f"统计期间：{report.period.start.isoformat()} 至 {report.period.end.isoformat()}    {_status_line(report)}"
    )
    sheet.merge_cells(f"A2:{last_column}2")
    _headers(sheet)
    keys = [column.key for column in COLUMNS]
    for offset, row in enumerate(report.rows):
        number = FIRST_DATA_ROW + offset
        sheet.cell(row=number, column=1, value=row.unit_name).border = _BORDER
        for index, key in enumerate(keys, start=2):
            cell = sheet.cell(row=number, column=index, value=row.values.get(key, 0))
            cell.border = _BORDER
        if row.row_kind in ("township_subtotal", "total"):
            for index in range(1, len(keys) + 2):
                sheet.cell(row=number, column=index).font = Font(bold=True)
    footer_row = FIRST_DATA_ROW + len(report.rows) + 1
    made_by = f"制表单位：{report.unit_name}"
    made_at = f"制表日期：{made_on.isoformat()}"
    sheet.cell(row=footer_row, column=1, value=made_by)
    sheet.cell(row=footer_row, column=len(keys) - 3, value=made_at)
    sheet.column_dimensions["A"].width = UNIT_WIDTH
    for index, column in enumerate(COLUMNS, start=2):
        sheet.column_dimensions[get_column_letter(index)].width = column.width
    sheet.freeze_panes = f"B{FIRST_DATA_ROW}"
    sheet.print_title_rows = "3:4"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.print_options.horizontalCentered = True
    sheet.oddFooter.left.text = made_by
    sheet.oddFooter.center.text = "第 &P 页 共 &N 页"
    sheet.oddFooter.right.text = made_at
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()


def report_filenames(report: ReportRead) -> tuple[str, str]:
    """(Chinese file name, ASCII fallback), e.g. 甲县统计报表_2026-03_第1版.xlsx."""
    version = f"_第{report.version}版" if report.version else ""
    name = f"{report.unit_name}统计报表_{report.period.key}{version}.xlsx"
    fallback = f"report_{report.unit_code}_{report.period.key}{f'_v{report.version}' if report.version else ''}.xlsx"
    return _UNSAFE_IN_FILENAME.sub("_", name), fallback


def made_on(report: ReportRead, today: date) -> date:
    """制表日期: the day it was published, or today for a live report."""
    return china_day(report.published_at) if report.published_at else today
