"""The registry as a file (人员导出) and the import template (导入模板).

The export has exactly the import's columns (`backend/persons/importer.py` COLUMNS, in its Chinese headers and
words), so a county can export, correct in Excel or WPS, and import again: the file's ID, phone and division
cells stay text (backend/core/spreadsheets.py), and the importer updates the records whose values changed.
ID and phone numbers are in full only where the caller may read identifiers over the person's unit
(`person.read_identifiers`), masked otherwise (a masked row cannot be imported again: the importer refuses
its ID number). Exporting needs `register.export` (the same permission as the registers) and reaches the
subtrees where the caller holds it through regular grants (never break-glass); every export is audited.

The template is an .xlsx with the same header, its ID, phone and code columns formatted as text, drop-down
lists for the columns that take fixed words, and a sheet of instructions.
"""

from __future__ import annotations

import io

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.concurrency import run_in_threadpool

from backend.audit import service as audit
from backend.audit.exporting import ExportedList, check_total, export_county_name
from backend.authz.principal import Principal
from backend.authz.vocabulary import Action
from backend.core.clock import china_today
from backend.core.spreadsheets import TEXT_FORMAT, Cell, CsvWriter, Footer, SheetWriter, XlsxWriter, prepare_print
from backend.models import ContraceptionMeasure, FlowDirection, Person
from backend.org.errors import OrgUnitNotFound
from backend.persons.identifiers import phone_of, resident_id_of
from backend.persons.importer import COLUMNS
from backend.persons.repository import PersonRepository
from backend.persons.resident_id import mask_phone, mask_resident_id
from backend.persons.service import PersonQuery, search_for
from backend.persons.spreadsheet import MAX_IMPORT_ROWS
from backend.registers import labels

EXPORT_ACTION = "person.export"
SERIAL_HEADER = "序号"
_BATCH = 1000
SEX_WORD = labels.SEX
FLOW_WORD = {FlowDirection.inflow: "流入", FlowDirection.outflow: "流出", FlowDirection.within_county: "县内"}
MARITAL_WORD = labels.MARITAL_STATUS
# The registers say 未避孕 for "none"; the importer's word for it is 无.
MEASURE_WORD = {**labels.CONTRACEPTION, ContraceptionMeasure.none: "无"}
# Columns a spreadsheet must keep as text, and the fixed words of the others (the template's drop-downs).
TEXT_COLUMNS = ("resident_id", "phone", "registration_division_code", "residence_unit_code")
CHOICES: dict[str, tuple[str, ...]] = {
    "sex": tuple(SEX_WORD.values()),
    "flow_direction": tuple(FLOW_WORD.values()),
    "marital_status": tuple(MARITAL_WORD.values()),
    "contraception_measure": tuple(MEASURE_WORD.values()),
    "key_subject": ("是", "否"),
}
WIDTHS = {"name": 10, "resident_id": 22, "phone": 14, "registration_address": 28, "residence_address": 28}
# 序号 first: the importer skips it (IGNORED_HEADERS), so the row numbers do not stop a re-import.
HEADERS = [SERIAL_HEADER, *(column.label for column in COLUMNS)]


def _identifiers(principal: Principal, person: Person) -> tuple[str | None, str | None, bool]:
    in_full = principal.can(Action.person_read_identifiers, person.org_unit_code)
    resident_id, phone = resident_id_of(person), phone_of(person)
    if not in_full:
        resident_id = mask_resident_id(resident_id) if resident_id else None
        phone = mask_phone(phone) if phone else None
    return resident_id, phone, in_full


def person_cells(person: Person, resident_id: str | None, phone: str | None) -> dict[str, Cell]:
    """One person as the import's columns (the words and codes the importer reads back)."""
    outflow = person.flow_direction == FlowDirection.outflow
    return {
        "name": person.name,
        "sex": SEX_WORD.get(person.sex),
        "ethnicity": person.ethnicity,
        "resident_id": resident_id,
        "phone": phone,
        "registration_division_code": person.registration_division_code,
        "registration_address": person.registration_address,
        # The managing unit is the residence unit, except for outflow people (managed where registered).
        "residence_unit_code": person.residence_division_code if outflow else person.org_unit_code,
        "residence_address": person.residence_address,
        "flow_direction": FLOW_WORD[person.flow_direction],
        "flow_date": person.flow_date,
        "flow_origin_destination": person.flow_origin_destination,
        "landlord_or_employer": person.landlord_or_employer,
        "marital_status": MARITAL_WORD.get(person.marital_status) if person.marital_status else None,
        "contraception_measure": MEASURE_WORD.get(person.contraception_measure)
        if person.contraception_measure
        else None,
        "contraception_date": person.contraception_date,
        "key_subject": "是" if person.key_subject else "否",
        "notes": person.notes,
    }


def _writer(file_format: str, county_name: str) -> SheetWriter:
    if file_format == "xlsx":
        widths = [6, *(WIDTHS.get(column.key, 12) for column in COLUMNS)]
        footer = Footer(county_name, china_today())
        return XlsxWriter(None, "流动人口", HEADERS, widths, footer=footer)
    return CsvWriter(HEADERS)


async def export_persons(
    session: AsyncSession, principal: Principal, query: PersonQuery, file_format: str
) -> ExportedList:
    """Every person the filters select within the caller's export reach, as a CSV or XLSX file, audited."""
    roots = principal.regular_scopes_for(Action.register_export)
    if query.org_unit is not None and not any(query.org_unit.startswith(root) for root in roots):
        # A unit outside the caller's export reach answers as one that does not exist, as the registers do.
        raise OrgUnitNotFound()
    county_name = await export_county_name(session, principal)
    search = search_for(query)
    repository = PersonRepository(session)
    first, total = await repository.search(search, roots, offset=0, limit=_BATCH)
    check_total(total)
    writer = _writer(file_format, county_name)
    rows = in_full = 0
    batch = first
    try:
        while batch:
            cells: list[list[Cell]] = []
            for person in batch:
                resident_id, phone, full = _identifiers(principal, person)
                in_full += full
                rows += 1
                values = person_cells(person, resident_id, phone)
                cells.append([rows, *(values[column.key] for column in COLUMNS)])
            await run_in_threadpool(writer.write_rows, cells)
            if rows >= total:
                break
            batch, _ = await repository.search(search, roots, offset=rows, limit=_BATCH)
        content = await run_in_threadpool(writer.finish)
    except BaseException:
        writer.discard()
        raise
    await audit.record(
        session,
        action=EXPORT_ACTION,
        entity_type="person",
        entity_id="export",
        org_unit_code=query.org_unit or principal.org_unit_code,
        changes={
            "format": file_format,
            "rows": rows,
            "rows_with_identifiers_in_full": in_full,
            "filters": {
                "org_unit": query.org_unit,
                "flow_direction": query.flow_direction,
                "status": query.status,
                "key_subject": query.key_subject,
                "sex": query.sex,
                "q": query.q,
            },
        },
    )
    day = china_today().isoformat()
    extension = writer.extension
    return ExportedList(content, f"流动人口-{day}.{extension}", f"persons-{day}.{extension}", writer.media_type, rows)


def import_template() -> bytes:
    """The import template: the header, text-formatted ID/phone/code columns, drop-down lists, instructions."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "流动人口"
    keys = [column.key for column in COLUMNS]
    header_font, header_fill = Font(bold=True), PatternFill("solid", fgColor="DDDDDD")
    for index, column in enumerate(COLUMNS, start=1):
        cell = sheet.cell(row=1, column=index, value=column.label)
        cell.font, cell.fill = header_font, header_fill
        sheet.column_dimensions[get_column_letter(index)].width = WIDTHS.get(column.key, 14)
    rows = MAX_IMPORT_ROWS + 1
    for key in TEXT_COLUMNS:
        letter = get_column_letter(keys.index(key) + 1)
        sheet.column_dimensions[letter].number_format = TEXT_FORMAT
        # Excel applies a column's format to cells typed later only when the cells carry it too.
        for row in range(2, 1002):
            sheet[f"{letter}{row}"].number_format = TEXT_FORMAT
    for key, words in CHOICES.items():
        letter = get_column_letter(keys.index(key) + 1)
        validation = DataValidation(
            type="list",
            formula1='"' + ",".join(words) + '"',
            allow_blank=True,
            showErrorMessage=True,
            errorTitle="请从下拉列表选择",
            error="可选：" + "、".join(words),
        )
        validation.add(f"{letter}2:{letter}{rows}")
        sheet.add_data_validation(validation)
    for key in ("flow_date", "contraception_date"):
        letter = get_column_letter(keys.index(key) + 1)
        for row in range(2, 1002):
            sheet[f"{letter}{row}"].number_format = "yyyy-mm-dd"
    sheet.freeze_panes = "B2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(COLUMNS))}1"
    prepare_print(sheet, footer=None, header_row=1)
    notes = workbook.create_sheet("填写说明")
    for line in (
        "每行一人；第一行为表头，请勿修改列名。",
        "必填：姓名、身份证号、流动方向。身份证号用于识别人员：已登记的号码将更新原记录。",
        "身份证号、手机号、区划代码列为文本格式，请勿改为数字格式（否则末几位会丢失）。",
        "性别、流动方向、婚姻状况、避孕措施、重点对象请从下拉列表选择。",
        "日期格式：YYYY-MM-DD。空白单元格不会清除已有信息。",
        f"单个文件不超过{MAX_IMPORT_ROWS}行、10MB；也可另存为 UTF-8 或 GBK 编码的 CSV 导入。",
    ):
        notes.append([line])
    notes.column_dimensions["A"].width = 100
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()


def template_filename() -> tuple[str, str]:
    return "流动人口导入模板.xlsx", "persons-import-template.xlsx"
