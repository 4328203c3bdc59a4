"""The registers (台账) through the API: whose rows each register shows, its columns and cells, identifiers
masked or in full per row, CSV and XLSX files, the audit of every export, periods, permissions and input."""

from __future__ import annotations

import codecs
import csv
import io
import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any
from urllib.parse import unquote

import httpx
import pytest
from openpyxl import load_workbook

from backend.authz.vocabulary import Role
from backend.db.engine import Database
from backend.models import (
    CaseOutcome,
    CaseStage,
    CertificateStatus,
    ContraceptionMeasure,
    FlowDirection,
    MaritalStatus,
    Person,
    PersonStatus,
    Sex,
)
from tests.backend.registers.conftest import AddCase, AddCertificate, AddPerson
from tests.fixtures.database import TenantFactory
from tests.fixtures.identity import County, SignIn, add_user, build_county

CST = timezone(timedelta(hours=8))
WANG_ID, WANG_ID_MASKED = "11010519900307002X", "110105********002X"
LI_ID = "110101199105061234"
ZHAO_ID, ZHAO_ID_MASKED = "330106198501011236", "330106********1236"
SAN_ID = "330106197703031217"
PHONE, PHONE_MASKED = "13812345678", "138****5678"
ALL_IDENTIFIER_DIGITS = (WANG_ID, "19900307", LI_ID, ZHAO_ID, "19850101", PHONE, "12345678")

HEADERS = {
    "inflow": (
        "序号 姓名 性别 出生日期 年龄 身份证号 婚育状况 流入时间 户籍地 现居住地 房东或用工单位 婚育证明编号 持证时间 "
        "最近查验日期 联系电话 状态 备注"
    ).split(),
    "outflow": (
        "序号 姓名 性别 出生日期 年龄 身份证号 婚育状况 户籍地 流出时间 流出地 现居住详细地址 联系电话 务工单位或房东 "
        "办证时间 婚育证明编号 证明有效期至 避孕措施 落实时间 状态 备注"
    ).split(),
    "certificates": (
        "序号 证明编号 持证人 身份证号 发证日期 有效期至 发证单位 代办 代办人 换领（原证明编号） 状态"
    ).split(),
    "checks": "序号 姓名 身份证号 检查轮次 检查日期 结果 登记单位".split(),
    "first-child": (
        "序号 登记编号 申请人 配偶及其他当事人 申请人身份证号 受理时间 当前阶段 结果 理由 办结时间"
    ).split(),
}
TITLES = {
    "inflow": "流入人口信息登记簿",
    "outflow": "流出人口信息登记簿",
    "certificates": "婚育证明登记表",
    "checks": "流入已婚育龄妇女孕情、环情检查登记簿",
    "first-child": "一孩生育服务登记表",
}
# What the village coordinator of v11 sees in each register of the scenario below.
V11_ROWS = {"inflow": 2, "outflow": 1, "certificates": 4, "checks": 1, "first-child": 1}


@dataclass
class Scenario:
    wang: Person  # inflow, v11, with certificates, children, phone
    li: Person  # inflow, v12 (sibling village of v11)
    zhao: Person  # outflow, v11
    sun: Person  # inflow, v11, left the county (注销)
    san: Person  # inflow, v21 (another township)


@pytest.fixture
async def scenario(
    county: County, add_person: AddPerson, add_certificate: AddCertificate, add_case: AddCase
) -> Scenario:
    wang = await add_person(
        county,
        "王芳",
        "v11",
        resident_id=WANG_ID,
        phone=PHONE,
        children=2,
        birth_date=date(1990, 3, 7),
        marital_status=MaritalStatus.first_marriage,
        flow_date=date(2026, 2, 1),
        registration_division_code="110105",
        registration_address="某街道1号",
        residence_address="幸福路8号",
        landlord_or_employer="张房东",
        notes='=HYPERLINK("http://evil.example")',
    )
    li = await add_person(county, "李娜", "v12", resident_id=LI_ID, phone="13900001111", flow_date=date(2026, 1, 15))
    zhao = await add_person(
        county,
        "赵敏",
        "v11",
        resident_id=ZHAO_ID,
        phone=PHONE,
        direction=FlowDirection.outflow,
        birth_date=date(1985, 1, 1),
        marital_status=MaritalStatus.remarried,
        children=1,
        flow_date=date(2025, 8, 1),
        flow_origin_destination="广东省深圳市",
        residence_division_code="440305",
        residence_address="科技园路1号",
        landlord_or_employer="某电子厂",
        contraception_measure=ContraceptionMeasure.iud,
        contraception_date=date(2024, 1, 1),
        registration_address="一组12号",
    )
    sun = await add_person(county, "孙丽", "v11", flow_date=date(2025, 11, 1), status=PersonStatus.departed)
    san = await add_person(county, "张三", "v21", resident_id=SAN_ID, flow_date=date(2026, 2, 2))
    await add_person(county, "钱多", "v11", flow_date=date(2026, 1, 1), status=PersonStatus.merged)
    await add_person(county, "李娜娜", "v12", direction=FlowDirection.outflow, flow_date=date(2025, 9, 9))
    chen = await add_person(county, "陈刚", "v11", sex=Sex.male, direction=FlowDirection.within_county)

    old = await add_certificate(
        county,
        wang,
        "HY-2020-001",
        issue_date=date(2020, 1, 1),
        status=CertificateStatus.renewed,
        inspected_on=[date(2021, 1, 1)],
    )
    await add_certificate(
        county,
        wang,
        "HY-2023-009",
        issue_date=date(2023, 1, 5),
        renews_id=old.id,
        issued_by_proxy=True,
        proxy_name="王父",
        inspected_on=[date(2025, 5, 1), date(2026, 2, 3)],
    )
    await add_certificate(county, wang, "HY-2024-777", issue_date=date(2024, 6, 1), status=CertificateStatus.revoked)
    await add_certificate(county, zhao, "HY-2025-100", issue_date=date(2025, 7, 20), permanent=True, valid_until=None)
    await add_certificate(county, li, "HY-2023-500", issue_date=date(2023, 3, 3), unit="v12")

    await add_case(
        county,
        "pregnancy_check_round",
        wang,
        "C-CHECK-1",
        received_at=datetime(2026, 3, 1, 9, tzinfo=CST),
        details={"round": "2026年第1轮", "checked_on": "2026-03-02", "result": "未孕，环情正常"},
    )
    await add_case(
        county,
        "pregnancy_check_round",
        li,
        "C-CHECK-2",
        unit="v12",
        received_at=datetime(2026, 3, 1, 9, tzinfo=CST),
        details={"round": "2026年第1轮", "checked_on": "2026-03-02", "result": "未孕"},
    )
    await add_case(
        county,
        "first_child_registration",
        wang,
        f"{county.code}-2026-000001",
        received_at=datetime(2026, 3, 10, 10, tzinfo=CST),
        others=[(chen, "spouse")],
        stage=CaseStage.closed,
        outcome=CaseOutcome.registered,
        outcome_reason="材料齐全",
        closed_at=datetime(2026, 3, 20, 8, tzinfo=CST),
    )
    await add_case(
        county,
        "first_child_registration",
        li,
        f"{county.code}-2026-000002",
        unit="v12",
        received_at=datetime(2026, 3, 11, 10, tzinfo=CST),
    )
    return Scenario(wang=wang, li=li, zhao=zhao, sun=sun, san=san)


async def _register(client: httpx.AsyncClient, register: str, **params: str) -> httpx.Response:
    return await client.get(f"/api/v1/registers/{register}", params=params)


async def _items(client: httpx.AsyncClient, register: str, **params: str) -> list[dict[str, Any]]:
    response = await _register(client, register, **params)
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


def _csv(response: httpx.Response) -> list[list[str]]:
    assert response.status_code == 200, response.text
    assert response.content.startswith(codecs.BOM_UTF8)
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def _xlsx(response: httpx.Response) -> tuple[Any, list[tuple[Any, ...]]]:
    assert response.status_code == 200, response.text
    sheet = load_workbook(io.BytesIO(response.content)).active
    return sheet, list(sheet.iter_rows(values_only=True))


async def _export_events(client: httpx.AsyncClient) -> list[dict[str, Any]]:
    response = await client.get("/api/v1/audit/events", params={"entity_type": "register"})
    assert response.status_code == 200, response.text
    return [event for event in response.json() if event["action"] == "register.export"]


class TestRowsAndCells:
    async def test_inflow_register_shows_the_villages_inflow_persons_with_their_details(
        self,
        county: County,
        scenario: Scenario,
        sign_in: SignIn,
        add_person: AddPerson,
        database: Database,
        tenant_factory: TenantFactory,
    ) -> None:
        other = await build_county(database, tenant_factory)
        await add_person(other, "外县人", "v11", flow_date=date(2026, 2, 1))
        coordinator = await sign_in(county, "v11.coord")
        items = await _items(coordinator, "inflow", period_to="2026-06-30")
        assert [item["name"] for item in items] == ["孙丽", "王芳"]
        assert items[0]["status"] == "已注销" and items[0]["serial"] == 1
        assert items[1] == {
            "serial": 2,
            "name": "王芳",
            "sex": "女",
            "birth_date": "1990-03-07",
            "age": 36,
            "resident_id": WANG_ID_MASKED,
            "marital_status": "初婚，2孩",
            "flow_date": "2026-02-01",
            "registration_place": "朝阳区某街道1号",
            "residence": "一村幸福路8号",
            "landlord_or_employer": "张房东",
            "certificate_number": "HY-2023-009",
            "certificate_issue_date": "2023-01-05",
            "last_inspected_on": "2026-02-03",
            "phone": PHONE_MASKED,
            "status": "在册",
            "notes": '=HYPERLINK("http://evil.example")',
        }

    async def test_township_officer_sees_both_villages_and_full_identifiers(
        self, county: County, scenario: Scenario, sign_in: SignIn
    ) -> None:
        officer = await sign_in(county, "t1.officer")
        items = await _items(officer, "inflow")
        assert [item["name"] for item in items] == ["孙丽", "王芳", "李娜"]
        wang = items[1]
        assert (wang["resident_id"], wang["phone"]) == (WANG_ID, PHONE)

    async def test_age_is_taken_at_the_end_of_the_period(
        self, county: County, scenario: Scenario, sign_in: SignIn
    ) -> None:
        coordinator = await sign_in(county, "v11.coord")
        before_birthday = await _items(coordinator, "inflow", period_to="2026-03-06")
        assert [item["age"] for item in before_birthday if item["name"] == "王芳"] == [35]

    async def test_outflow_register_shows_destination_certificate_and_contraception(
        self, county: County, scenario: Scenario, sign_in: SignIn
    ) -> None:
        coordinator = await sign_in(county, "v11.coord")
        items = await _items(coordinator, "outflow", period_to="2026-06-30")
        assert items == [
            {
                "serial": 1,
                "name": "赵敏",
                "sex": "女",
                "birth_date": "1985-01-01",
                "age": 41,
                "resident_id": ZHAO_ID_MASKED,
                "marital_status": "再婚，1孩",
                "registration_place": "一村一组12号",
                "flow_date": "2025-08-01",
                "destination": "广东省深圳市",
                "destination_address": "南山区科技园路1号",
                "phone": PHONE_MASKED,
                "landlord_or_employer": "某电子厂",
                "certificate_issue_date": "2025-07-20",
                "certificate_number": "HY-2025-100",
                "certificate_valid_until": "长期有效",
                "contraception": "上环",
                "contraception_date": "2024-01-01",
                "status": "在册",
                "notes": None,
            }
        ]

    async def test_certificate_register_shows_validity_proxy_and_renewal(
        self, county: County, scenario: Scenario, sign_in: SignIn
    ) -> None:
        coordinator = await sign_in(county, "v11.coord")
        items = await _items(coordinator, "certificates")
        assert [item["number"] for item in items] == ["HY-2020-001", "HY-2023-009", "HY-2024-777", "HY-2025-100"]
        renewal = items[1]
        assert renewal == {
            "serial": 2,
            "number": "HY-2023-009",
            "holder": "王芳",
            "resident_id": WANG_ID_MASKED,
            "issue_date": "2023-01-05",
            "valid_until": "2026-01-05",
            "issuing_unit": "一镇计生办",
            "by_proxy": "是",
            "proxy_name": "王父",
            "renews": "HY-2020-001",
            "status": "有效",
        }
        assert [item["status"] for item in items] == ["已换领", "有效", "已作废", "有效"]
        assert items[0]["by_proxy"] == "否" and items[3]["valid_until"] == "长期有效"

    async def test_check_register_reads_round_date_and_result_from_the_case(
        self, county: County, scenario: Scenario, sign_in: SignIn
    ) -> None:
        coordinator = await sign_in(county, "v11.coord")
        assert await _items(coordinator, "checks") == [
            {
                "serial": 1,
                "name": "王芳",
                "resident_id": WANG_ID_MASKED,
                "round": "2026年第1轮",
                "checked_on": "2026-03-02",
                "result": "未孕，环情正常",
                "unit": "一村",
            }
        ]

    async def test_first_child_register_names_the_spouse_and_the_decision(
        self, county: County, scenario: Scenario, sign_in: SignIn
    ) -> None:
        coordinator = await sign_in(county, "v11.coord")
        assert await _items(coordinator, "first-child") == [
            {
                "serial": 1,
                "number": f"{county.code}-2026-000001",
                "applicant": "王芳",
                "other_subjects": "陈刚（配偶）",
                "resident_id": WANG_ID_MASKED,
                "received_on": "2026-03-10",
                "stage": "办结",
                "outcome": "予以登记",
                "outcome_reason": "材料齐全",
                "closed_on": "2026-03-20",
            }
        ]

    @pytest.mark.parametrize("register", list(V11_ROWS))
    async def test_sibling_village_and_other_county_rows_never_show(
        self,
        county: County,
        scenario: Scenario,
        sign_in: SignIn,
        register: str,
        database: Database,
        tenant_factory: TenantFactory,
    ) -> None:
        coordinator = await sign_in(county, "v11.coord")
        listed = (await _register(coordinator, register)).json()
        assert listed["total"] == V11_ROWS[register]
        assert not {"李娜", "李娜娜", "张三"} & set(json.dumps(listed, ensure_ascii=False).split('"'))
        other = await build_county(database, tenant_factory)
        await add_user(database, other, "officer", "t1", [(Role.county_officer, "county")])
        foreign = await sign_in(other, "officer")
        assert (await _register(foreign, register)).json()["total"] == 0

    async def test_pages_number_rows_across_pages(self, county: County, scenario: Scenario, sign_in: SignIn) -> None:
        officer = await sign_in(county, "t1.officer")
        page = (await _register(officer, "inflow", page="2", size="1")).json()
        assert (page["total"], page["page"], page["size"]) == (3, 2, 1)
        assert [(item["serial"], item["name"]) for item in page["items"]] == [(2, "王芳")]
        assert [column["header"] for column in page["columns"]] == HEADERS["inflow"]


class TestFiles:
    @pytest.mark.parametrize("register", list(HEADERS))
    async def test_csv_is_utf8_with_bom_and_chinese_headers(
        self, county: County, scenario: Scenario, sign_in: SignIn, register: str
    ) -> None:
        coordinator = await sign_in(county, "v11.coord")
        response = await _register(coordinator, register, format="csv", org_unit=county.units["v11"])
        assert response.headers["content-type"].startswith("text/csv")
        rows = _csv(response)
        assert rows[0] == HEADERS[register]
        assert len(rows) == 1 + V11_ROWS[register]
        assert [row[0] for row in rows[1:]] == [str(n) for n in range(1, V11_ROWS[register] + 1)]

    async def test_csv_cells_are_masked_and_formulas_defused(
        self, county: County, scenario: Scenario, sign_in: SignIn
    ) -> None:
        coordinator = await sign_in(county, "v11.coord")
        rows = _csv(await _register(coordinator, "inflow", format="csv"))
        wang = dict(zip(rows[0], rows[2], strict=True))
        assert wang["身份证号"] == WANG_ID_MASKED and wang["联系电话"] == PHONE_MASKED
        assert wang["出生日期"] == "1990-03-07"
        assert wang["备注"] == '\'=HYPERLINK("http://evil.example")'

    @pytest.mark.parametrize("register", list(HEADERS))
    async def test_xlsx_has_title_header_frozen_panes_and_widths(
        self, county: County, scenario: Scenario, sign_in: SignIn, register: str
    ) -> None:
        coordinator = await sign_in(county, "v11.coord")
        response = await _register(
            coordinator,
            register,
            format="xlsx",
            org_unit=county.units["v11"],
            period_from="2020-01-01",
            period_to="2026-12-31",
        )
        assert response.headers["content-type"].startswith(
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
        sheet, rows = _xlsx(response)
        assert rows[0][0] == f"{TITLES[register]} — 一村 — 2020-01-01 至 2026-12-31"
        assert list(rows[1]) == HEADERS[register]
        assert len(rows) == 2 + V11_ROWS[register]
        assert sheet.freeze_panes == "C3"
        assert sheet.column_dimensions["B"].width > 6

    async def test_xlsx_masks_identifiers_for_a_village_coordinator(
        self, county: County, scenario: Scenario, sign_in: SignIn
    ) -> None:
        coordinator = await sign_in(county, "v11.coord")
        sheet, rows = _xlsx(await _register(coordinator, "inflow", format="xlsx"))
        wang = dict(zip(rows[1], rows[3], strict=True))
        assert wang["姓名"] == "王芳"
        assert (wang["身份证号"], wang["联系电话"]) == (WANG_ID_MASKED, PHONE_MASKED)
        assert wang["流入时间"].date() == date(2026, 2, 1) and isinstance(wang["年龄"], int)
        assert wang["备注"] == '=HYPERLINK("http://evil.example")'
        notes = sheet.cell(row=4, column=HEADERS["inflow"].index("备注") + 1)
        assert notes.data_type == "s"  # text, not a formula

    async def test_xlsx_shows_full_identifiers_to_a_township_officer(
        self, county: County, scenario: Scenario, sign_in: SignIn
    ) -> None:
        officer = await sign_in(county, "t1.officer")
        _, rows = _xlsx(await _register(officer, "certificates", format="xlsx"))
        ids = {row[1]: row[3] for row in rows[2:]}
        assert ids["HY-2023-009"] == WANG_ID and ids["HY-2023-500"] == LI_ID

    async def test_full_identifiers_stay_text_in_excel_and_wps(
        self, county: County, scenario: Scenario, sign_in: SignIn
    ) -> None:
        officer = await sign_in(county, "t1.officer")
        rows = _csv(await _register(officer, "inflow", format="csv"))
        wang = dict(zip(rows[0], rows[2], strict=True))
        # ="..." opens as text in both: all 18 digits stay, no 3.30106E+17.
        assert wang["身份证号"] == f'="{WANG_ID}"'
        sheet, rows = _xlsx(await _register(officer, "inflow", format="xlsx"))
        id_cell = sheet.cell(row=4, column=HEADERS["inflow"].index("身份证号") + 1)
        assert (id_cell.value, id_cell.data_type, id_cell.number_format) == (WANG_ID, "s", "@")

    async def test_xlsx_prints_on_a4_landscape_with_autofilter_and_footer(
        self, county: County, scenario: Scenario, sign_in: SignIn
    ) -> None:
        coordinator = await sign_in(county, "v11.coord")
        sheet, rows = _xlsx(await _register(coordinator, "inflow", format="xlsx", org_unit=county.units["v11"]))
        assert (sheet.page_setup.paperSize, sheet.page_setup.orientation, sheet.page_setup.fitToWidth) == (
            9,
            "landscape",
            1,
        )
        assert sheet.sheet_properties.pageSetUpPr.fitToPage and sheet.print_title_rows == "$2:$2"
        assert sheet.auto_filter.ref.startswith("A2:") and sheet.auto_filter.ref.endswith(str(len(rows)))
        assert sheet.oddFooter.left.text == "制表单位：一村"
        assert sheet.oddFooter.center.text == "第 &P 页，共 &N 页"
        assert sheet.oddFooter.right.text.startswith("制表日期：")

    async def test_identifiers_are_decided_per_row(self, county: County, scenario: Scenario, sign_in: SignIn) -> None:
        mixed = await sign_in(county, "mixed")  # officer over t1, only a coordinator over v21
        _, rows = _xlsx(await _register(mixed, "inflow", format="xlsx"))
        ids = {row[1]: row[5] for row in rows[2:]}
        assert ids["王芳"] == WANG_ID and ids["李娜"] == LI_ID
        assert ids["张三"] == "330106********1217"

    async def test_a_persons_number_needs_identifier_rights_over_the_persons_own_unit_too(
        self, county: County, scenario: Scenario, sign_in: SignIn, add_certificate: AddCertificate, add_case: AddCase
    ) -> None:
        # Filed in v11 (where "mixed" is an officer) but about 张三 of v21 (where "mixed" is only a coordinator).
        await add_certificate(county, scenario.san, "HY-2026-321", issue_date=date(2026, 2, 2), unit="v11")
        await add_case(
            county, "pregnancy_check_round", scenario.san, "C-SAN", received_at=datetime(2026, 3, 3, 9, tzinfo=CST)
        )
        mixed = await sign_in(county, "mixed")
        certificates = {item["number"]: item["resident_id"] for item in await _items(mixed, "certificates")}
        assert certificates["HY-2026-321"] == "330106********1217" and certificates["HY-2023-009"] == WANG_ID
        checks = {item["name"]: item["resident_id"] for item in await _items(mixed, "checks")}
        assert checks == {"王芳": WANG_ID, "李娜": LI_ID, "张三": "330106********1217"}

    async def test_file_name_is_chinese_per_rfc_5987_with_an_ascii_fallback(
        self, county: County, scenario: Scenario, sign_in: SignIn
    ) -> None:
        coordinator = await sign_in(county, "v11.coord")
        response = await _register(
            coordinator,
            "inflow",
            format="csv",
            org_unit=county.units["v11"],
            period_from="2026-01-01",
            period_to="2026-06-30",
        )
        disposition = response.headers["content-disposition"]
        assert disposition.startswith(f'attachment; filename="inflow_{county.units["v11"]}_20260101-20260630.csv"')
        encoded = disposition.split("filename*=UTF-8''", 1)[1]
        assert unquote(encoded) == "流入人口信息登记簿_一村_20260101-20260630.csv"
        assert encoded.isascii()


class TestAudit:
    async def test_export_is_audited_without_any_identifier(
        self, county: County, scenario: Scenario, sign_in: SignIn
    ) -> None:
        coordinator, officer = await sign_in(county, "v11.coord"), await sign_in(county, "t1.officer")
        await _register(coordinator, "inflow", format="xlsx", org_unit=county.units["v11"], period_to="2026-06-30")
        await _register(officer, "certificates", format="csv")
        auditor = await sign_in(county, "auditor")
        events = await _export_events(auditor)
        assert [event["entity_id"] for event in events] == ["certificates", "inflow"]
        officers, coordinators = events
        assert coordinators["changes"] == {
            "register": "inflow",
            "org_unit": county.units["v11"],
            "period_from": None,
            "period_to": "2026-06-30",
            "format": "xlsx",
            "rows": 2,
            "identifiers_in_full": False,
            "rows_with_identifiers_in_full": 0,
        }
        assert coordinators["org_unit_code"] == county.units["v11"]
        assert officers["changes"]["identifiers_in_full"] is True
        assert officers["changes"]["rows_with_identifiers_in_full"] == 5
        assert officers["org_unit_code"] == county.units["t1"]
        text = json.dumps(events, ensure_ascii=False)
        assert not [digits for digits in ALL_IDENTIFIER_DIGITS if digits in text]
        assert "王芳" not in text

    async def test_viewing_the_page_is_not_an_export(self, county: County, scenario: Scenario, sign_in: SignIn) -> None:
        coordinator = await sign_in(county, "v11.coord")
        await _items(coordinator, "inflow")
        assert await _export_events(await sign_in(county, "auditor")) == []


class TestPeriods:
    async def test_person_registers_filter_on_the_flow_date(
        self, county: County, scenario: Scenario, sign_in: SignIn
    ) -> None:
        coordinator = await sign_in(county, "v11.coord")
        assert [i["name"] for i in await _items(coordinator, "inflow", period_from="2026-01-01")] == ["王芳"]
        assert [i["name"] for i in await _items(coordinator, "inflow", period_to="2025-12-31")] == ["孙丽"]
        assert [
            i["name"] for i in await _items(coordinator, "inflow", period_from="2026-02-01", period_to="2026-02-01")
        ] == ["王芳"]
        assert await _items(coordinator, "outflow", period_from="2025-08-02") == []

    async def test_certificate_register_filters_on_the_issue_date(
        self, county: County, scenario: Scenario, sign_in: SignIn
    ) -> None:
        coordinator = await sign_in(county, "v11.coord")
        items = await _items(coordinator, "certificates", period_from="2023-01-01", period_to="2023-12-31")
        assert [item["number"] for item in items] == ["HY-2023-009"]

    async def test_case_registers_filter_on_the_day_received_in_china(
        self, county: County, scenario: Scenario, sign_in: SignIn, add_case: AddCase
    ) -> None:
        # 23:30 and 00:10 Beijing time fall on the same UTC day but on different register days.
        for number, received in (
            ("C-LATE", datetime(2026, 3, 31, 23, 30, tzinfo=CST)),
            ("C-EARLY", datetime(2026, 4, 1, 0, 10, tzinfo=CST)),
        ):
            await add_case(
                county, "pregnancy_check_round", scenario.wang, number, received_at=received, details={"round": number}
            )
        coordinator = await sign_in(county, "v11.coord")
        march = await _items(coordinator, "checks", period_from="2026-03-31", period_to="2026-03-31")
        april = await _items(coordinator, "checks", period_from="2026-04-01")
        assert [item["round"] for item in march] == ["C-LATE"]
        assert [item["round"] for item in april] == ["C-EARLY"]
        first_child = await _items(coordinator, "first-child", period_from="2026-03-11")
        assert first_child == []

    async def test_the_export_carries_the_same_period_filter(
        self, county: County, scenario: Scenario, sign_in: SignIn
    ) -> None:
        coordinator = await sign_in(county, "v11.coord")
        rows = _csv(await _register(coordinator, "inflow", format="csv", period_to="2025-12-31"))
        assert [row[1] for row in rows[1:]] == ["孙丽"]


class TestPermissions:
    async def test_auditor_views_but_cannot_export(self, county: County, scenario: Scenario, sign_in: SignIn) -> None:
        auditor = await sign_in(county, "auditor")
        assert len(await _items(auditor, "inflow")) == 4
        for file_format in ("csv", "xlsx"):
            assert (await _register(auditor, "inflow", format=file_format)).status_code == 403
            refused = await _register(auditor, "inflow", format=file_format, org_unit=county.units["t1"])
            assert refused.status_code == 403
        assert await _export_events(auditor) == []

    async def test_a_unit_outside_reach_answers_404(self, county: County, scenario: Scenario, sign_in: SignIn) -> None:
        coordinator = await sign_in(county, "v11.coord")
        for unit in (county.units["v12"], county.units["t1"], "110101001001"):
            for file_format in ("json", "csv", "xlsx"):
                response = await _register(coordinator, "inflow", org_unit=unit, format=file_format)
                assert response.status_code == 404, (unit, file_format)

    async def test_a_unit_within_reach_narrows_the_register(
        self, county: County, scenario: Scenario, sign_in: SignIn
    ) -> None:
        officer = await sign_in(county, "t1.officer")
        items = await _items(officer, "inflow", org_unit=county.units["v12"])
        assert [item["name"] for item in items] == ["李娜"]

    async def test_county_admin_without_person_read_is_refused(
        self, county: County, database: Database, sign_in: SignIn
    ) -> None:
        await add_user(database, county, "admin", "county", [(Role.county_admin, "county")])
        admin = await sign_in(county, "admin")
        assert (await _register(admin, "inflow")).status_code == 403

    async def test_break_glass_rows_are_viewed_with_an_audit_but_never_exported(
        self, county: County, scenario: Scenario, sign_in: SignIn, database: Database
    ) -> None:
        await add_user(database, county, "t1.sup", "t1", [(Role.township_supervisor, "t1")])
        supervisor = await sign_in(county, "t1.sup")
        granted = await supervisor.post(
            "/api/v1/break-glass",
            json={"org_unit_code": county.units["t2"], "reason": "核查重复登记：张三在两镇均有登记记录"},
        )
        assert granted.status_code == 201, granted.text
        page = {item["name"]: item for item in await _items(supervisor, "inflow")}
        assert page["张三"]["resident_id"] == "330106********1217" and page["王芳"]["resident_id"] == WANG_ID
        rows = _csv(await _register(supervisor, "inflow", format="csv"))
        assert [row[1] for row in rows[1:]] == ["孙丽", "王芳", "李娜"]
        assert (await _register(supervisor, "inflow", format="csv", org_unit=county.units["t2"])).status_code == 403
        auditor = await sign_in(county, "auditor")
        events = (await auditor.get("/api/v1/audit/events", params={"correlation_id": granted.json()["id"]})).json()
        assert [event["entity_type"] for event in events if event["action"] == "break_glass.list"] == ["person"]

    async def test_signed_out_callers_get_401(self, api: httpx.AsyncClient) -> None:
        assert (await api.get("/api/v1/registers/inflow")).status_code == 401


class TestInput:
    async def test_unknown_register_is_404(self, county: County, sign_in: SignIn) -> None:
        coordinator = await sign_in(county, "v11.coord")
        for name in ("households", "INFLOW"):
            response = await _register(coordinator, name)
            assert response.status_code == 404 and response.json()["error"] == "NOT_FOUND"

    @pytest.mark.parametrize(
        ("params", "field"),
        [
            ({"period_from": "2026-13-01"}, "period_from"),
            ({"period_to": "yesterday"}, "period_to"),
            ({"period_from": "2026-06-30", "period_to": "2026-01-01"}, "period_to"),
            ({"org_unit": "12345"}, "org_unit"),
            ({"format": "pdf"}, "format"),
        ],
    )
    async def test_bad_query_is_422_naming_the_field(
        self, county: County, sign_in: SignIn, params: dict[str, str], field: str
    ) -> None:
        coordinator = await sign_in(county, "v11.coord")
        response = await _register(coordinator, "inflow", **params)
        assert response.status_code == 422, response.text
        assert [error["loc"] for error in response.json()["fields"]] == [["query", field]]
