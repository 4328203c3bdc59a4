"""The case list and the audit search as files: every row the filters select within the caller's export reach
(own subtree only, never a sibling's or another county's), ID and code cells kept as text, printed on A4
landscape with the 制表单位 footer, and every export audited; an auditor exports the audit search, not cases."""

from __future__ import annotations

import csv
import io

import httpx
import pytest
from openpyxl import load_workbook

from backend.authz.vocabulary import Role
from backend.db.engine import Database
from tests.fixtures.database import TenantFactory
from tests.fixtures.identity import County, SignIn, add_user, build_county


@pytest.fixture
async def county(database: Database, tenant_factory: TenantFactory) -> County:
    county = await build_county(database, tenant_factory)
    await add_user(database, county, "v11.coord", "v11", [(Role.village_coordinator, "v11")])
    await add_user(database, county, "t1.officer", "t1", [(Role.township_officer, "t1")])
    await add_user(database, county, "t2.officer", "t2", [(Role.township_officer, "t2")])
    await add_user(database, county, "auditor", "county", [(Role.auditor, "county")])
    return county


async def _open(client: httpx.AsyncClient, county: County, unit: str) -> str:
    response = await client.post("/api/v1/cases", json={"case_type": "complaint", "org_unit_code": county.units[unit]})
    assert response.status_code == 201, response.text
    return str(response.json()["number"])


def _csv(response: httpx.Response) -> list[list[str]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["cache-control"] == "no-store"
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


async def test_the_case_list_downloads_within_the_export_reach_and_is_audited(
    county: County, sign_in: SignIn, database: Database, tenant_factory: TenantFactory
) -> None:
    township = await sign_in(county, "t1.officer")
    in_v11, in_v12 = await _open(township, county, "v11"), await _open(township, county, "v12")
    in_t2 = await _open(await sign_in(county, "t2.officer"), county, "v21")

    rows = _csv(await township.get("/api/v1/cases", params={"format": "csv", "size": 1}))
    assert rows[0][:3] == ["序号", "案件编号", "案件类型"]
    assert sorted(row[1] for row in rows[1:]) == sorted([in_v11, in_v12])  # all pages; t2's case is not here
    assert {row[4] for row in rows[1:]} == {f'="{county.units["v11"]}"', f'="{county.units["v12"]}"'}

    village = await sign_in(county, "v11.coord")
    response = await village.get("/api/v1/cases", params={"format": "xlsx"})
    assert response.status_code == 200 and response.headers["x-export-rows"] == "1"
    assert "filename*=UTF-8''" in response.headers["content-disposition"]
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet is not None
    assert "案件" in str(sheet["A1"].value) and sheet["B2"].value == "案件编号"
    assert sheet["B3"].value == in_v11 and sheet["A4"].value is None
    code = sheet["E3"]
    assert (code.value, code.data_type, code.number_format) == (county.units["v11"], "s", "@")
    assert (sheet.page_setup.paperSize, sheet.page_setup.orientation) in {(9, "landscape"), ("9", "landscape")}
    assert sheet.freeze_panes == "C3" and sheet.auto_filter.ref == "A2:M3"
    assert "制表单位" in sheet.oddFooter.left.text and "制表日期" in sheet.oddFooter.right.text

    # Another county's officer exports nothing of this county; an auditor reads cases but exports none.
    other = await build_county(database, tenant_factory)
    await add_user(database, other, "t1.officer", "t1", [(Role.township_officer, "t1")])
    foreign = _csv(await (await sign_in(other, "t1.officer")).get("/api/v1/cases", params={"format": "csv"}))
    assert foreign[1:] == []
    auditor = await sign_in(county, "auditor")
    assert (await auditor.get("/api/v1/cases")).status_code == 200
    refused = await auditor.get("/api/v1/cases", params={"format": "csv"})
    assert refused.status_code == 403 and refused.json()["error"] == "FORBIDDEN"

    events = (await auditor.get("/api/v1/audit/events", params={"entity_type": "case", "entity_id": "export"})).json()
    assert [(event["action"], event["changes"]["format"], event["changes"]["rows"]) for event in events] == [
        ("case.export", "xlsx", 1),
        ("case.export", "csv", 2),
    ]
    assert in_t2 not in str(events)


async def test_the_audit_search_downloads_for_the_auditor_and_is_audited(county: County, sign_in: SignIn) -> None:
    township = await sign_in(county, "t1.officer")
    await _open(township, county, "v11")
    auditor = await sign_in(county, "auditor")
    rows = _csv(await auditor.get("/api/v1/audit/events", params={"format": "csv", "entity_type": "case"}))
    assert rows[0][:7] == ["序号", "序列号", "时间", "操作者类型", "操作者", "单位代码", "操作"]
    assert len(rows) > 1 and all(row[7] == "case" for row in rows[1:])
    assert rows[1][5] == f'="{county.units["v11"]}"'
    events = (await auditor.get("/api/v1/audit/events", params={"entity_type": "audit"})).json()
    assert [(event["action"], event["changes"]["list"], event["changes"]["filters"]) for event in events] == [
        ("audit.export", "audit-events", {"entity_type": "case"})
    ]
    # The township officer holds no audit.read.
    assert (await township.get("/api/v1/audit/events", params={"format": "csv"})).status_code == 403
