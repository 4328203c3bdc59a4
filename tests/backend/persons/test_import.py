"""Bulk import from .xlsx and .csv: every problem reported by (row, column), all or nothing or valid rows only,
idempotent on ID numbers, file type judged by content."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import date
from typing import Any

import httpx
import pytest
from openpyxl import Workbook

from backend.persons.spreadsheet import MAX_IMPORT_BYTES, MAX_IMPORT_ROWS
from tests.backend.persons.factories import make_id, with_wrong_check_digit
from tests.fixtures.identity import County, SignIn

HEADER = [
    "姓名",
    "性别",
    "民族",
    "身份证号",
    "手机号",
    "户籍地区划代码",
    "户籍地址",
    "现居住单位代码",
    "现居住地址",
    "流动方向(流入/流出/县内)",
    "流动日期",
    "流出地/流入地",
    "房东或单位",
    "婚姻状况",
    "避孕措施",
    "措施日期",
    "重点对象(是/否)",
    "备注",
]


def row(county: County, name: str, number: str, **cells: Any) -> dict[str, Any]:
    values = {
        "姓名": name,
        "性别": "",
        "民族": "汉族",
        "身份证号": number,
        "手机号": "13900001111",
        "户籍地区划代码": "330106",
        "户籍地址": "浙江省杭州市西湖区",
        "现居住单位代码": county.units["v11"],
        "现居住地址": "一村1组",
        "流动方向(流入/流出/县内)": "流入",
        "流动日期": "2025-05-01",
        "流出地/流入地": "浙江杭州",
        "房东或单位": "某电子厂",
        "婚姻状况": "初婚",
        "避孕措施": "上环",
        "措施日期": "2024/06/01",
        "重点对象(是/否)": "否",
        "备注": "",
    }
    values.update(cells)
    return values


def to_csv(rows: list[dict[str, Any]], *, encoding: str = "utf-8-sig", header: list[str] = HEADER) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    for values in rows:
        writer.writerow([values.get(column, "") for column in HEADER])
    return buffer.getvalue().encode(encoding)


def to_xlsx(rows: list[list[Any]], header: list[str] = HEADER) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(header)
    for values in rows:
        sheet.append(values)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


async def upload(
    client: httpx.AsyncClient, data: bytes, *, filename: str = "registry.csv", **params: Any
) -> httpx.Response:
    return await client.post(
        "/api/v1/persons:import", params=params, files={"file": (filename, data, "application/octet-stream")}
    )


async def total(client: httpx.AsyncClient, **params: Any) -> int:
    response = await client.get("/api/v1/persons", params=params)
    assert response.status_code == 200, response.text
    return int(response.json()["total"])


async def find(client: httpx.AsyncClient, number: str) -> dict[str, Any] | None:
    items = (await client.get("/api/v1/persons", params={"resident_id": number})).json()["items"]
    if not items:
        return None
    return (await client.get(f"/api/v1/persons/{items[0]['id']}")).json()


class TestImport:
    async def test_a_valid_file_registers_everyone_with_their_fields(self, county: County, sign_in: SignIn) -> None:
        officer = await sign_in(county, "officer")
        inflow, outflow = make_id(sex="female"), make_id(sex="male")
        data = to_csv(
            [
                row(county, "孙丽", inflow, **{"重点对象(是/否)": "是"}),
                row(
                    county,
                    "钱进",
                    outflow,
                    **{
                        "流动方向(流入/流出/县内)": "流出",
                        "户籍地区划代码": county.units["v12"],
                        "现居住单位代码": "440305",
                        "流出地/流入地": "广东深圳",
                        "避孕措施": "",
                        "措施日期": "",
                    },
                ),
            ]
        )
        response = await upload(officer, data)
        assert response.status_code == 200, response.text
        report = response.json()
        assert (report["created"], report["updated"], report["unchanged"], report["rejected"]) == (2, 0, 0, 0)
        first = await find(officer, inflow)
        assert first is not None
        assert (first["name"], first["sex"], first["org_unit_code"], first["key_subject"]) == (
            "孙丽",
            "female",
            county.units["v11"],
            True,
        )
        assert (first["contraception_measure"], first["contraception_date"]) == ("iud", "2024-06-01")
        second = await find(officer, outflow)
        assert second is not None
        # An outflow person is managed by the registration village; the residence lies elsewhere.
        assert (second["org_unit_code"], second["residence_division_code"]) == (county.units["v12"], "440305")
        assert second["flow_direction"] == "outflow"

    async def test_bad_rows_are_reported_by_row_and_column_and_nothing_is_imported(
        self, county: County, sign_in: SignIn
    ) -> None:
        officer = await sign_in(county, "officer")
        good = make_id()
        data = to_csv(
            [
                row(county, "好人", good),
                row(county, "坏校验", with_wrong_check_digit(make_id()), **{"手机号": "123"}),
                row(county, "", make_id(), **{"流动方向(流入/流出/县内)": "出国", "流动日期": "2025-13-40"}),
                row(
                    county,
                    "越界",
                    make_id(),
                    **{"现居住单位代码": county.units["v21"], "婚姻状况": "已婚", "房东或单位": "厂" * 201},
                ),
                row(county, "重复", good),
            ]
        )
        before = await total(officer)
        response = await upload(officer, data)
        assert response.status_code == 422, response.text
        body = response.json()
        assert body["error"] == "IMPORT_REJECTED"
        problems = {(field["loc"][1], field["loc"][2]) for field in body["fields"]}
        assert problems == {
            (3, "身份证号"),
            (3, "手机号"),
            (4, "姓名"),
            (4, "流动方向(流入/流出/县内)"),
            (4, "流动日期"),
            (5, "现居住单位代码"),
            (5, "婚姻状况"),
            (5, "房东或单位"),
            (6, "身份证号"),
        }
        assert all(field["loc"][0] == "row" and " / " in field["msg"] for field in body["fields"])
        assert all(field["msg"].startswith(f"第{field['loc'][1]}行") for field in body["fields"])
        assert await total(officer) == before
        assert await find(officer, good) is None

    async def test_valid_rows_mode_imports_the_good_rows_and_reports_the_others(
        self, county: County, sign_in: SignIn
    ) -> None:
        officer = await sign_in(county, "officer")
        good, bad = make_id(), with_wrong_check_digit(make_id())
        data = to_csv([row(county, "甲", good), row(county, "乙", bad)])
        response = await upload(officer, data, mode="valid_rows")
        assert response.status_code == 200, response.text
        report = response.json()
        assert (report["created"], report["rejected"]) == (1, 1)
        assert [error["loc"] for error in report["errors"]] == [["row", 3, "身份证号"]]
        assert await find(officer, good) is not None

    async def test_re_importing_the_same_file_changes_nothing(self, county: County, sign_in: SignIn) -> None:
        officer = await sign_in(county, "officer")
        numbers = [make_id(), make_id(sex="female")]
        rows = [row(county, "周一", numbers[0]), row(county, "吴二", numbers[1], **{"性别": "女"})]
        first = (await upload(officer, to_csv(rows))).json()
        assert first["created"] == 2
        person = await find(officer, numbers[0])
        assert person is not None
        history_before = (await officer.get(f"/api/v1/persons/{person['id']}/history")).json()

        again = await upload(officer, to_csv(rows))
        assert again.status_code == 200, again.text
        assert (again.json()["created"], again.json()["updated"], again.json()["unchanged"]) == (0, 0, 2)
        person_after = await find(officer, numbers[0])
        assert person_after is not None and person_after["version"] == person["version"]
        history_after = (await officer.get(f"/api/v1/persons/{person['id']}/history")).json()
        changes = [event for event in history_after if event["action"] not in ("person.view_identifiers",)]
        assert len(changes) == len([e for e in history_before if e["action"] != "person.view_identifiers"])

        rows[0]["手机号"] = "13700002222"
        rows[0]["备注"] = ""  # an empty cell changes nothing
        changed = (await upload(officer, to_csv(rows))).json()
        assert (changed["created"], changed["updated"], changed["unchanged"]) == (0, 1, 1)
        updated = await find(officer, numbers[0])
        assert updated is not None and updated["phone"] == "13700002222"
        last = (await officer.get(f"/api/v1/persons/{person['id']}/history")).json()[-2]
        assert (last["action"], last["changes"]["phone"], last["correlation_id"]) == (
            "person.update",
            ["***", "***"],
            changed["import_id"],
        )

    async def test_a_dry_run_counts_without_writing(self, county: County, sign_in: SignIn) -> None:
        officer = await sign_in(county, "officer")
        number = make_id()
        report = (await upload(officer, to_csv([row(county, "试运行", number)]), dry_run=True)).json()
        assert (report["dry_run"], report["created"], report["import_id"]) == (True, 1, None)
        assert await find(officer, number) is None

    async def test_xlsx_with_english_headers_and_gbk_csv_are_read(self, county: County, sign_in: SignIn) -> None:
        officer = await sign_in(county, "officer")
        in_xlsx, in_gbk = make_id(sex="female"), make_id()
        header = ["name", "sex", "resident_id", "residence_unit_code", "flow_direction", "flow_date", "key_subject"]
        data = to_xlsx([["郑秀", "女", in_xlsx, county.units["v12"], "within_county", date(2025, 1, 2), "否"]], header)
        # The name says .csv; the content is an .xlsx, and the content decides.
        response = await upload(officer, data, filename="registry.csv")
        assert (response.status_code, response.json()["created"]) == (200, 1), response.text
        person = await find(officer, in_xlsx)
        assert person is not None and (person["flow_direction"], person["flow_date"]) == ("within_county", "2025-01-02")

        gbk = to_csv([row(county, "冯骥", in_gbk, **{"现居住单位代码": county.units["v11"]})], encoding="gbk")
        response = await upload(officer, gbk, filename="registry.xlsx")
        assert (response.status_code, response.json()["created"]) == (200, 1), response.text
        person = await find(officer, in_gbk)
        assert person is not None and person["name"] == "冯骥"

    async def test_an_id_number_stored_as_an_excel_number_is_reported(self, county: County, sign_in: SignIn) -> None:
        officer = await sign_in(county, "officer")
        number = make_id()
        data = to_xlsx([["数字", "男", "汉族", float(number[:17]) * 10, "", "", "", county.units["v11"], "", "流入"]])
        response = await upload(officer, data)
        assert response.status_code == 422, response.text
        assert response.json()["fields"][0]["loc"] == ["row", 2, "身份证号"]
        assert "文本" in response.json()["fields"][0]["msg"]

    async def test_a_person_managed_outside_reach_is_not_updated_by_an_import(
        self, county: County, sign_in: SignIn
    ) -> None:
        coordinator = await sign_in(county, "coord12")
        number = make_id()
        in_v12 = row(county, "外村", number, **{"现居住单位代码": county.units["v12"]})
        assert (await upload(coordinator, to_csv([in_v12]))).json()["created"] == 1
        officer11 = await sign_in(county, "coord11")
        response = await upload(officer11, to_csv([row(county, "外村", number)]))
        assert response.status_code == 422
        assert [field["loc"] for field in response.json()["fields"]] == [["row", 2, "身份证号"]]


class TestImportFile:
    @pytest.mark.parametrize(
        ("data", "status"),
        [
            (b"", 422),
            (b"%PDF-1.7\n" + b"\x00" * 100, 415),
            (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, 415),
            (b"PK\x03\x04 not really a zip", 422),
        ],
        ids=["empty", "pdf", "old xls", "broken zip"],
    )
    async def test_files_that_are_not_spreadsheets_are_refused(
        self, county: County, sign_in: SignIn, data: bytes, status: int
    ) -> None:
        officer = await sign_in(county, "officer")
        response = await upload(officer, data, filename="registry.xlsx")
        assert response.status_code == status, response.text
        assert response.json()["fields"][0]["loc"] == ["body", "file"]

    async def test_a_zip_that_is_not_a_workbook_is_refused(self, county: County, sign_in: SignIn) -> None:
        officer = await sign_in(county, "officer")
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr("word/document.xml", "<w/>")
        response = await upload(officer, buffer.getvalue(), filename="registry.xlsx")
        assert (response.status_code, response.json()["error"]) == (422, "IMPORT_UNREADABLE")

    async def test_unknown_or_missing_columns_are_named(self, county: County, sign_in: SignIn) -> None:
        officer = await sign_in(county, "officer")
        data = "序号,姓名,出生日期,流动方向\n1,张三,1990-01-01,流入\n".encode()
        response = await upload(officer, data)
        assert response.status_code == 422, response.text
        assert [field["loc"] for field in response.json()["fields"]] == [["row", 1, "出生日期"], ["row", 1, "身份证号"]]

    async def test_too_many_rows_and_too_large_files_are_refused_clearly(self, county: County, sign_in: SignIn) -> None:
        officer = await sign_in(county, "officer")
        lines = ",".join(HEADER) + "\n" + "张三,男\n" * (MAX_IMPORT_ROWS + 1)
        many = await upload(officer, lines.encode())
        assert (many.status_code, many.json()["error"]) == (413, "IMPORT_TOO_MANY_ROWS")
        assert str(MAX_IMPORT_ROWS) in many.json()["detail"]
        large = await upload(officer, b"a" * (MAX_IMPORT_BYTES + 1))
        assert (large.status_code, large.json()["error"]) == (413, "IMPORT_TOO_LARGE")

    async def test_the_upload_must_be_multipart_and_needs_write_permission(
        self, county: County, sign_in: SignIn
    ) -> None:
        officer = await sign_in(county, "officer")
        response = await officer.post("/api/v1/persons:import", content=b"name\n", headers={"content-type": "text/csv"})
        assert response.status_code == 415
        auditor = await sign_in(county, "auditor")
        assert (await upload(auditor, to_csv([]))).status_code == 403
