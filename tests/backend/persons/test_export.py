"""The registry as a file and back: an export keeps ID and phone numbers as text (CSV `="..."`, XLSX Text
cells), prints on A4 landscape with a 制表单位/制表日期/页码 footer, masks identifiers for callers who may not read
them, is audited, and imports again after an edit (export → edit → import). The import template has the
import's header, text-formatted ID columns and drop-down lists."""

from __future__ import annotations

import csv
import io
from typing import Any

import httpx
import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import select

from backend.authz.vocabulary import Role
from backend.db.engine import Database
from backend.db.tenancy import set_tenant
from backend.models import AuditEvent
from tests.backend.persons.factories import make_id
from tests.backend.persons.test_import import HEADER, row, to_csv, upload
from tests.fixtures.database import TenantFactory
from tests.fixtures.identity import County, SignIn, add_user, build_county


@pytest.fixture
async def fresh(database: Database, tenant_factory: TenantFactory) -> County:
    """A county of its own: the export holds exactly this test's persons."""
    county = await build_county(database, tenant_factory, "导出县")
    await add_user(database, county, "officer", "t1", [(Role.township_officer, "t1")])
    await add_user(database, county, "coord11", "v11", [(Role.village_coordinator, "v11")])
    return county


async def _registered(officer: httpx.AsyncClient, county: County) -> list[str]:
    numbers = [make_id(), make_id(sex="female"), make_id(sex="female")]
    rows = [
        row(county, "周一", numbers[0]),
        row(county, "吴二", numbers[1], **{"性别": "女", "重点对象(是/否)": "是"}),
        row(county, "郑三", numbers[2], **{"性别": "女", "婚姻状况": "再婚", "避孕措施": "皮埋"}),
    ]
    imported = await upload(officer, to_csv(rows))
    assert imported.status_code == 200 and imported.json()["created"] == 3, imported.text
    return numbers


async def _export(client: httpx.AsyncClient, file_format: str) -> httpx.Response:
    response = await client.get("/api/v1/persons:export", params={"format": file_format})
    assert response.status_code == 200, response.text
    return response


async def test_a_csv_export_keeps_ids_as_text_and_imports_again_after_an_edit(fresh: County, sign_in: SignIn) -> None:
    officer = await sign_in(fresh, "officer")
    numbers = await _registered(officer, fresh)
    exported = await _export(officer, "csv")
    assert exported.headers["x-export-rows"] == "3"
    assert exported.content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
    header, body = rows[0], rows[1:]
    assert header == ["序号", *HEADER]
    ids = {line[header.index("身份证号")] for line in body}
    assert ids == {f'="{number}"' for number in numbers}  # what Excel and WPS open as text, all 18 digits
    assert {line[header.index("手机号")] for line in body} == {'="13900001111"'}

    # A clerk corrects one person's notes in the spreadsheet and imports the file back.
    body[0][header.index("备注")] = "已核实住址"
    edited = io.StringIO()
    csv.writer(edited).writerows([header, *body])
    again = await upload(officer, edited.getvalue().encode("utf-8-sig"))
    assert again.status_code == 200, again.text
    assert (again.json()["created"], again.json()["updated"], again.json()["unchanged"]) == (0, 1, 2)


async def test_an_xlsx_export_has_text_ids_a_printable_page_and_imports_again(fresh: County, sign_in: SignIn) -> None:
    officer = await sign_in(fresh, "officer")
    numbers = await _registered(officer, fresh)
    workbook = load_workbook(io.BytesIO((await _export(officer, "xlsx")).content))
    sheet = workbook.active
    assert sheet is not None
    assert [cell.value for cell in sheet[1]] == ["序号", *HEADER]
    id_column = HEADER.index("身份证号") + 2
    id_cells = [sheet.cell(row=line, column=id_column) for line in range(2, 5)]
    assert {cell.value for cell in id_cells} == set(numbers)
    assert all(cell.data_type == "s" and cell.number_format == "@" for cell in id_cells)
    assert (sheet.page_setup.paperSize, sheet.page_setup.orientation) == (9, "landscape")
    assert sheet.sheet_properties.pageSetUpPr.fitToPage and sheet.page_setup.fitToWidth == 1
    assert sheet.freeze_panes == "C2" and sheet.auto_filter.ref == f"A1:{sheet.cell(1, len(HEADER) + 1).column_letter}4"
    assert sheet.oddFooter.left.text == "制表单位：导出县"
    assert sheet.oddFooter.center.text == "第 &P 页，共 &N 页"
    assert sheet.oddFooter.right.text.startswith("制表日期：20")

    sheet.cell(row=2, column=HEADER.index("房东或单位") + 2, value="某纺织厂")
    edited = io.BytesIO()
    workbook.save(edited)
    again = await upload(officer, edited.getvalue(), filename="registry.xlsx")
    assert again.status_code == 200, again.text
    assert (again.json()["updated"], again.json()["unchanged"]) == (1, 2)


async def test_without_identifier_rights_the_export_is_masked_and_cannot_replace_the_records(
    fresh: County, sign_in: SignIn, database: Database
) -> None:
    officer = await sign_in(fresh, "officer")
    numbers = await _registered(officer, fresh)
    coordinator = await sign_in(fresh, "coord11")
    exported = await _export(coordinator, "csv")
    text = exported.content.decode("utf-8-sig")
    assert not any(number in text for number in numbers)
    assert "*" in text
    refused = await upload(officer, exported.content)
    assert refused.status_code == 422  # masked ID numbers are refused row by row; nothing is written

    async with database.sessionmaker() as session, session.begin():
        await set_tenant(session, fresh.tenant.id)
        events = (await session.scalars(select(AuditEvent).where(AuditEvent.action == "person.export"))).all()
    # Each export is one audit event: how many rows left, and how many of them with identifiers in full.
    assert [(event.changes["rows"], event.changes["rows_with_identifiers_in_full"]) for event in events] == [(3, 0)]


async def test_exports_need_the_export_permission(registry: Any, sign_in: SignIn) -> None:
    auditor = await sign_in(registry.county, "auditor")
    assert (await auditor.get("/api/v1/persons:export")).status_code == 403


async def test_the_import_template_has_the_header_text_columns_and_drop_down_lists(
    fresh: County, sign_in: SignIn
) -> None:
    officer = await sign_in(fresh, "officer")
    response = await officer.get("/api/v1/persons:import-template")
    assert response.status_code == 200
    assert "filename*=UTF-8''" in response.headers["content-disposition"]
    workbook: Workbook = load_workbook(io.BytesIO(response.content))
    sheet = workbook["流动人口"]
    assert [cell.value for cell in sheet[1]] == HEADER
    for label in ("身份证号", "手机号", "户籍地区划代码", "现居住单位代码"):
        assert sheet.cell(row=2, column=HEADER.index(label) + 1).number_format == "@"
    # Column letter of each drop-down list's range ("B2:B20001") -> its choices.
    lists = {
        str(validation.sqref).split(":")[0].rstrip("0123456789"): validation.formula1
        for validation in sheet.data_validations.dataValidation
    }
    assert lists[sheet.cell(1, HEADER.index("性别") + 1).column_letter] == '"男,女"'
    assert lists[sheet.cell(1, HEADER.index("流动方向(流入/流出/县内)") + 1).column_letter] == '"流入,流出,县内"'
    assert "填写说明" in workbook.sheetnames
    # The empty template is itself a valid (empty) import: its header is the importer's.
    filled = to_csv([row(fresh, "王四", make_id())])
    assert (await upload(officer, filled)).json()["created"] == 1
