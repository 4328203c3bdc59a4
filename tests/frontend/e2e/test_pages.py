"""The other pages, in the browser: certificates (issue, inspect, renew), and the county admin's configuration
(case-type deadlines, county holidays, API clients). Each page passes axe-core and fits a 360 px phone."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from backend.authz.vocabulary import Role
from backend.calendar.service import china_today
from backend.core.context import SYSTEM_ACTOR, actor_var
from backend.core.crypto import personal_data_cipher
from backend.db.tenancy import set_tenant
from backend.models import FlowDirection, Person, Sex
from backend.persons.names import name_search_keys
from tests.frontend.e2e.conftest import BackgroundLoop, World
from tests.frontend.e2e.helpers import check_page, sign_in

pytestmark = pytest.mark.e2e


async def _person(world: World, name: str, unit: str, resident_id: str) -> Person:
    keys = name_search_keys(name)
    cipher = personal_data_cipher()
    person = Person(
        id=uuid.uuid4(),
        tenant_id=world.county.tenant.id,
        name=name,
        name_pinyin=keys.pinyin,
        name_initials=keys.initials,
        sex=Sex.female,
        ethnicity="汉族",
        birth_date=date(1992, 5, 1),
        org_unit_code=world.county.units[unit],
        flow_direction=FlowDirection.outflow,
        key_subject=False,
        resident_id_ciphertext=cipher.encrypt(resident_id, context="person.resident_id"),
        resident_id_hash=cipher.lookup_hash(resident_id, context="person.resident_id"),
    )
    actor_var.set(SYSTEM_ACTOR)
    async with world.database.sessionmaker() as session, session.begin():
        await set_tenant(session, world.county.tenant.id)
        session.add(person)
    return person


def test_officer_issues_inspects_and_renews_a_marriage_and_childbearing_certificate(
    page: Page, live_server: str, world: World, background: BackgroundLoop, screenshot_dir: Path
) -> None:
    county = background.run(world.build("证明县"))
    background.run(world.user("zhen.he", "t1", [(Role.township_officer, "t1")]))
    person = background.run(_person(world, "何静", "v11", "110105199205010028"))
    # Issued almost three years ago: it expires within the 90-day renewal window.
    issued = china_today() - timedelta(days=3 * 365 - 30)

    sign_in(page, live_server, county, "zhen.he")
    page.get_by_role("navigation", name="主菜单").get_by_role("link", name="人员").click()
    page.get_by_role("link", name="何静").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("何静")
    page.get_by_label("证明编号").fill("")
    page.get_by_label("发证日期").fill(issued.isoformat())
    page.get_by_label("发证单位区划代码").fill(county.units["t1"])
    page.get_by_role("button", name="办理", exact=True).click()
    expect(page.locator("#e-number")).to_be_visible()  # the number is required, said next to the field
    check_page(page, screenshot_dir, "person-detail")

    page.get_by_label("证明编号").fill("ZJ-2024-000123")
    page.get_by_role("button", name="办理", exact=True).click()
    expect(page.get_by_role("status")).to_have_text("婚育证明已办理。")
    expect(page.locator("dl.facts")).to_contain_text("一镇")
    check_page(page, screenshot_dir, "certificate")

    page.get_by_label("查验日期").fill(china_today().isoformat())
    page.get_by_label("查验结果").select_option("valid")
    page.get_by_role("button", name="记录查验").click()
    expect(page.get_by_role("status")).to_have_text("查验已记录。")
    expect(page.locator("main")).to_contain_text("查验合格")

    page.get_by_label("新证明编号").fill("ZJ-2027-000456")
    page.get_by_label("发证日期").fill(china_today().isoformat())
    page.get_by_role("button", name="换领").click()
    expect(page.get_by_role("status")).to_have_text("已换领新证明。")
    expect(page.get_by_role("heading", level=1)).to_have_text("婚育证明 ZJ-2027-000456")
    check_page(page)

    page.get_by_role("navigation", name="主菜单").get_by_role("link", name="婚育证明").click()
    expect(page.locator("table")).to_contain_text("ZJ-2024-000123")
    expect(page.locator("table")).to_contain_text("已换领")
    check_page(page, screenshot_dir, "certificates")
    assert person.name == "何静"


def test_county_admin_configures_deadlines_holidays_and_an_api_client(
    page: Page, live_server: str, world: World, background: BackgroundLoop, screenshot_dir: Path
) -> None:
    county = background.run(world.build("配置县"))
    background.run(world.user("xian.config", "county", [(Role.county_admin, "county")]))
    sign_in(page, live_server, county, "xian.config")
    nav = page.get_by_role("navigation", name="主菜单")

    nav.get_by_role("link", name="案件类型").click()
    page.get_by_role("link", name="一孩生育服务登记").click()
    days = page.get_by_label("登记 · 工作日")
    days.fill("99")
    page.get_by_role("button", name="保存").click()
    expect(page.locator("#e-days_registration")).to_be_visible()  # over the limit, refused next to the field
    days.fill("5")
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_role("status")).to_contain_text("已保存")
    expect(page.get_by_label("登记 · 工作日")).to_have_value("5")
    check_page(page, screenshot_dir, "admin-case-type")

    nav.get_by_role("link", name="节假日").click()
    holiday = china_today() + timedelta(days=40)
    page.get_by_label("每行一天：日期,名称,依据").fill(f"{holiday.isoformat()},三月三,县政府〔2027〕3号\nnot a line")
    page.get_by_role("button", name="导入").click()
    expect(page.locator("#e-lines")).to_contain_text("第2行")
    page.get_by_label("每行一天：日期,名称,依据").fill(f"{holiday.isoformat()},三月三,县政府〔2027〕3号")
    page.get_by_role("button", name="导入").click()
    expect(page.get_by_role("status")).to_have_text("已导入县级假日：1")
    expect(page.locator("table")).to_contain_text("三月三")
    check_page(page, screenshot_dir, "admin-calendar")

    nav.get_by_role("link", name="接口客户端").click()
    page.get_by_label("名称").fill("公安分局人口系统")
    page.get_by_label("部门").select_option("police")
    # Scopes read by name, their code on hover.
    expect(page.locator('label[title="intake:police"]')).to_contain_text("公安通报")
    page.get_by_label("公安通报", exact=True).check()
    page.get_by_role("button", name="创建客户端").click()
    expect(page.get_by_role("status")).to_contain_text("密钥只显示这一次")
    expect(page.locator("table")).to_contain_text("公安分局人口系统")
    expect(page.locator('table span[title="intake:police"]')).to_have_text("公安通报")
    check_page(page, screenshot_dir, "admin-clients")


def test_registration_errors_are_in_english_after_the_language_switch(
    page: Page, live_server: str, world: World, background: BackgroundLoop
) -> None:
    county = background.run(world.build("英文县"))
    background.run(world.user("cun.en", "v11", [(Role.village_coordinator, "v11")]))
    sign_in(page, live_server, county, "cun.en")
    page.goto(live_server + "/persons/new?direction=inflow")
    page.get_by_role("link", name="English").click()
    expect(page).to_have_url(live_server + "/persons/new?direction=inflow")  # the switch goes back to the page
    expect(page.get_by_role("heading", level=1)).to_have_text("Register an inflow person")
    page.get_by_label("Name").fill("Li Xiuying")
    page.get_by_label("ID number").fill("330106199003070023")
    page.get_by_role("button", name="Register").click()
    expect(page.locator("#e-resident_id")).to_contain_text("Resident ID number")
    expect(page.locator("#e-resident_id")).not_to_contain_text("校验")
    expect(page.locator("#e-org_unit_code")).to_be_visible()  # the managing unit is required
    check_page(page)


def test_supervisor_assigns_a_waiting_case_from_its_page(
    page: Page, live_server: str, world: World, background: BackgroundLoop
) -> None:
    county = background.run(world.build("分派县"))
    background.run(world.user("zhen.fu", "t1", [(Role.township_supervisor, "t1")]))
    background.run(world.user("zhen.qin", "t1", [(Role.township_officer, "t1")]))
    case = background.run(world.case("待领人", "v12"))

    sign_in(page, live_server, county, "zhen.fu")
    page.goto(f"{live_server}/cases?assignee=none")
    page.get_by_role("link", name=case.number).click()
    expect(page.locator("dl.facts")).to_contain_text("未分配")
    page.get_by_label("承办人").select_option(label="zhen.qin（zhen.qin）")
    page.get_by_role("button", name="分派", exact=True).click()
    expect(page.get_by_role("status")).to_have_text("承办人已更新。")
    expect(page.locator("dl.facts")).to_contain_text("zhen.qin")
    expect(page.locator("ol.timeline")).to_contain_text("分派")
    check_page(page)


def test_coordinator_opens_a_faxed_case_from_the_case_list_in_english_with_errors_by_the_fields(
    page: Page, live_server: str, world: World, background: BackgroundLoop
) -> None:
    county = background.run(world.build("开案县"))
    background.run(world.user("cun.open", "v11", [(Role.village_coordinator, "v11")]))
    background.run(_person(world, "林小红", "v11", "330106199003070022"))
    background.run(_person(world, "郭丽", "v21", "330106198805120031"))  # another township: outside her reach
    sign_in(page, live_server, county, "cun.open")
    page.goto(live_server + "/cases")
    page.get_by_role("link", name="English").click()
    expect(page).to_have_url(live_server + "/cases")  # the switch goes back to the page
    page.get_by_role("link", name="Open a case").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Open a case")
    # Only her own village can handle it, and the case types read in English.
    expect(page.get_by_label("Handling unit").locator("option")).to_have_count(2)  # "choose" + her village
    page.get_by_label("Case type").select_option(label="First-child birth service registration")
    page.get_by_label("Handling unit").select_option(county.units["v11"])
    page.get_by_label("Applicant's ID number").fill("330106198805120031")  # registered, but not in her reach
    page.get_by_label("Arrived by").select_option("fax")
    page.get_by_role("button", name="Open a case").click()
    expect(page.locator("#e-applicant_resident_id")).to_have_text("no person with this ID number in your reach")
    page.get_by_label("Applicant's ID number").fill("330106199003070022")
    page.get_by_role("button", name="Open a case").click()
    # A fax needs the time printed on it and its evidence; nothing is opened without them.
    expect(page.locator("#e-arrival_at")).to_have_text("the time shown by the evidence is required")
    printed = (datetime.now(UTC) + timedelta(hours=8) - timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")  # Beijing
    page.get_by_label("Signed-for, fax-printed or call time").fill(printed)
    page.get_by_role("button", name="Open a case").click()
    expect(page.locator("#e-arrival_evidence")).to_have_text("the evidence is required")
    check_page(page)
    page.get_by_label("Evidence").fill("传真页眉 0571-8888")
    page.get_by_role("button", name="Open a case").click()
    expect(page.get_by_role("status").first).to_have_text(
        "The case is open; its clock runs once the workflow has started."
    )
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"{county.code}-")
    expect(page.locator("section", has=page.locator("#people-title"))).to_contain_text("林小红")
