"""Village service work on a phone (360 px wide, the whole journey): a coordinator records a check result (三查),
records a follow-up visit, issues contraceptives with a signature drawn on the screen, and walks a clean-up
campaign's list recording three findings. Bad input is refused at its field. Each page passes axe-core."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from backend.authz.vocabulary import Role
from backend.core.clock import china_today
from backend.models import BusinessType, ContraceptionMeasure, RentalHouse
from tests.fixtures.village import Village, resident_id
from tests.frontend.e2e.conftest import BackgroundLoop, World
from tests.frontend.e2e.helpers import check_page, sign_in, sign_out

pytestmark = pytest.mark.e2e

PHONE = {"width": 360, "height": 740}


def test_coordinator_records_a_check_result_on_her_phone(
    page: Page, live_server: str, world: World, background: BackgroundLoop, screenshot_dir: Path
) -> None:
    county = background.run(world.build("三查县"))
    background.run(world.user("cun.wang", "v11", [(Role.village_coordinator, "v11")]))
    village = Village(world.database)
    background.run(village.person(county, "刘梅"))
    background.run(village.person(county, "陈红", unit="v12"))  # another village: not on her list
    background.run(village.sweep(county, china_today()))
    today = china_today()

    page.set_viewport_size(PHONE)
    sign_in(page, live_server, county, "cun.wang")
    page.get_by_role("navigation", name="主菜单").get_by_role("link", name="三查").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("三查")
    expect(page.get_by_role("list", name="检查对象").get_by_role("listitem")).to_have_count(1)
    check_page(page, screenshot_dir, "check-rounds", phone=True)
    page.get_by_role("link", name="刘梅").click()

    # A date in the future is refused at its field by the input policy (before the service's own checks) ...
    page.get_by_label("检查日期").fill((today + timedelta(days=1)).isoformat())
    page.get_by_label("服务机构").fill("一镇计生服务站")
    page.locator("#f-place").select_option("elsewhere")
    page.get_by_role("button", name="登记结果").click()
    expect(page.locator("#e-checked_on")).to_have_text("日期不能在将来")
    # ... and a check elsewhere without its place and proof: each refused at its field.
    page.get_by_label("检查日期").fill(today.isoformat())
    page.locator("#f-place").select_option("elsewhere")
    page.get_by_role("button", name="登记结果").click()
    expect(page.locator("#e-place_name")).to_contain_text("外地检查须写明检查地点")
    expect(page.locator("#e-proof")).to_contain_text("证明扫描件")
    check_page(page, screenshot_dir, "check-result-error", phone=True)

    page.get_by_label("检查日期").fill(today.isoformat())
    page.locator("#f-place").select_option("local")
    page.get_by_label("环情").select_option("in_place")
    page.locator("#f-gynaecology").select_option("findings")
    page.get_by_label("妇科检查情况").fill("宫颈炎，建议治疗")
    page.get_by_role("button", name="登记结果").click()
    expect(page.get_by_role("status")).to_have_text("检查结果已登记。")
    result = page.locator("section", has=page.locator("#result-title"))
    expect(result).to_contain_text("环在位")
    expect(result).to_contain_text("宫颈炎，建议治疗")
    check_page(page, screenshot_dir, "check-round", phone=True)

    page.goto(live_server + "/checks/rates")
    expect(page.get_by_role("table")).to_contain_text("100.0%")
    check_page(page, screenshot_dir, "check-rates", phone=True)


def test_coordinator_records_a_pill_users_visit_on_her_phone(
    page: Page, live_server: str, world: World, background: BackgroundLoop, screenshot_dir: Path
) -> None:
    county = background.run(world.build("随访县"))
    background.run(world.user("cun.li", "v11", [(Role.village_coordinator, "v11")]))
    village = Village(world.database)
    background.run(village.person(county, "孙丽", measure=ContraceptionMeasure.pill))
    background.run(village.sweep(county, china_today()))

    page.set_viewport_size(PHONE)
    sign_in(page, live_server, county, "cun.li")
    page.get_by_role("navigation", name="主菜单").get_by_role("link", name="随访").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("随访")
    check_page(page, screenshot_dir, "followups", phone=True)
    page.get_by_role("link", name="孙丽").click()
    page.get_by_label("随访日期").fill((china_today() + timedelta(days=3)).isoformat())
    page.get_by_role("button", name="记录随访").click()
    expect(page.locator("#e-visited_on")).to_have_text("日期不能在将来")
    page.get_by_label("随访日期").fill(china_today().isoformat())
    page.get_by_label("现用避孕措施").select_option("pill")
    page.get_by_role("button", name="记录随访").click()
    expect(page.get_by_role("status")).to_have_text("随访已记录。")
    expect(page.locator("section", has=page.locator("#visit-title"))).to_contain_text("口服药")
    check_page(page, screenshot_dir, "followup-visit", phone=True)


def _sign(page: Page) -> None:
    """Draw a signature on the pad, as a finger would."""
    pad = page.locator("#f-signature-pad")
    pad.scroll_into_view_if_needed()
    box = pad.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + 20, box["y"] + 100)
    page.mouse.down()
    page.mouse.move(box["x"] + 90, box["y"] + 40, steps=8)
    page.mouse.move(box["x"] + 160, box["y"] + 110, steps=8)
    page.mouse.move(box["x"] + 250, box["y"] + 50, steps=8)
    page.mouse.up()
    expect(page.locator("#f-signature")).to_have_value(re.compile(r"^data:image/png;base64,"))


def test_coordinator_issues_contraceptives_with_a_signature_on_her_phone(
    page: Page, live_server: str, world: World, background: BackgroundLoop, screenshot_dir: Path
) -> None:
    county = background.run(world.build("药具县"))
    background.run(world.user("cun.zhao", "v11", [(Role.village_coordinator, "v11")]))
    village = Village(world.database)
    background.run(village.person(county, "周敏", measure=ContraceptionMeasure.condom))
    today = china_today().isoformat()

    page.set_viewport_size(PHONE)
    sign_in(page, live_server, county, "cun.zhao")
    page.get_by_role("navigation", name="主菜单").get_by_role("link", name="避孕药具").click()
    page.get_by_label("所属单位").select_option(county.units["v11"])
    page.get_by_label("发放点名称").fill("一村计生服务室")
    page.get_by_role("button", name="新增", exact=True).click()
    expect(page.get_by_role("status")).to_have_text("发放点已新增。")

    page.get_by_label("入库数量").fill("20")
    page.get_by_label("入库日期").fill(today)
    page.get_by_label("供货单位").fill("县药具站")
    page.get_by_role("button", name="登记入库").click()
    expect(page.get_by_role("status")).to_have_text("入库已登记。")
    expect(page.locator("#balances")).to_contain_text("避孕套：20")

    # More than the stock: refused at the quantity, nothing issued.
    page.locator("#f-person_id").select_option(label="周敏")
    page.locator("#f-quantity").fill("30")
    page.get_by_label("发放日期").fill(today)
    _sign(page)
    page.get_by_role("button", name="登记发放").click()
    expect(page.locator("#e-quantity")).to_have_text("库存不足：避孕套现有20，不能发放30")
    expect(page.locator("#balances")).to_contain_text("避孕套：20")
    check_page(page, screenshot_dir, "contraceptive-issue-error", phone=True)

    # Without a signature: refused at the pad.
    page.locator("#f-quantity").fill("5")
    page.get_by_role("button", name="登记发放").click()
    expect(page.locator("#e-signature")).to_contain_text("领取人须当场签字")

    page.locator("#f-person_id").select_option(label="周敏")
    page.locator("#f-quantity").fill("5")
    _sign(page)
    check_page(page, screenshot_dir, "contraceptive-issue", phone=True)
    page.get_by_role("button", name="登记发放").click()
    expect(page.get_by_role("status")).to_have_text("发放已登记，领取人已签字。")
    expect(page.locator("#balances")).to_contain_text("避孕套：15")
    expect(page.locator("section", has=page.locator("#movements-title"))).to_contain_text("周敏")

    page.goto(live_server + "/registers/contraceptive-issues")
    expect(page.get_by_role("table")).to_contain_text("已签字")
    page.goto(live_server + "/contraceptives/reconciliation")
    expect(page.get_by_role("table")).to_contain_text("一村")
    check_page(page, screenshot_dir, "contraceptive-reconciliation", phone=True)


def test_coordinator_walks_a_campaign_list_recording_three_findings(
    page: Page, live_server: str, world: World, background: BackgroundLoop, screenshot_dir: Path
) -> None:
    county = background.run(world.build("清查县"))
    background.run(world.user("zhen.liu", "t1", [(Role.township_officer, "t1")]))
    background.run(world.user("cun.sun", "v11", [(Role.village_coordinator, "v11")]))
    village = Village(world.database)
    long_ago = datetime.now(UTC) - timedelta(days=400)
    for name in ("吴芳", "郑丽"):
        background.run(village.person(county, name, registered_at=long_ago, flow_date=long_ago.date()))
    background.run(
        village.add(
            county,
            RentalHouse(
                id=uuid.uuid4(),
                tenant_id=county.tenant.id,
                org_unit_code=county.units["v11"],
                address="一村南街5号",
                owner_name="冯房东",
                business_type=BusinessType.residential,
                active=True,
            ),
        )
    )
    today = china_today()

    page.set_viewport_size(PHONE)
    sign_in(page, live_server, county, "zhen.liu")
    page.get_by_role("navigation", name="主菜单").get_by_role("link", name="清理清查").click()
    page.get_by_label("清查名称").fill("2026年第四季度联合大清查")
    page.get_by_label("开始日期").fill((today - timedelta(days=1)).isoformat())
    page.get_by_label("结束日期").fill((today + timedelta(days=20)).isoformat())
    check_page(page, screenshot_dir, "campaign-plan", phone=True)
    page.get_by_role("button", name="部署并生成名单").click()
    expect(page.get_by_role("status")).to_have_text("清查已部署，各村（居）走访名单已生成。")
    sign_out(page)

    sign_in(page, live_server, county, "cun.sun")
    page.get_by_role("navigation", name="主菜单").get_by_role("link", name="清理清查").click()
    page.get_by_role("link", name="走访清查名单").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("走访名单")
    walk_list = page.get_by_role("list", name="走访名单")
    expect(walk_list.get_by_role("listitem")).to_have_count(3)
    check_page(page, screenshot_dir, "campaign-walk", phone=True)

    def card(text: str):  # type: ignore[no-untyped-def]
        return walk_list.locator("li.card", has_text=text)

    # A visit date in the future is refused at that entry's field.
    card("吴芳").get_by_label("走访日期").fill((today + timedelta(days=2)).isoformat())
    card("吴芳").get_by_role("button", name="登记").click()
    expect(card("吴芳").get_by_role("alert")).to_have_text("日期不能在将来")
    card("吴芳").get_by_label("走访日期").fill(today.isoformat())
    card("吴芳").get_by_role("button", name="登记").click()
    expect(page.get_by_role("status")).to_have_text("走访结果已登记。")
    expect(card("吴芳")).to_contain_text("在住，已见面")

    card("郑丽").get_by_label("走访结果", exact=True).select_option("left")
    card("郑丽").get_by_label("情况说明").fill("已返回户籍地")
    card("郑丽").get_by_role("button", name="登记").click()
    expect(card("郑丽")).to_contain_text("已离开")

    card("一村南街5号").get_by_role("button", name="登记").click()
    expect(card("一村南街5号")).to_contain_text("已走访")
    check_page(page, screenshot_dir, "campaign-walk-recorded", phone=True)

    page.get_by_role("link", name="返回清查").click()
    report = page.locator("#report")
    expect(report).to_contain_text("3")
    check_page(page, screenshot_dir, "campaign-report", phone=True)


def test_township_officer_keeps_rental_houses_and_free_services_on_her_phone(
    page: Page, live_server: str, world: World, background: BackgroundLoop, screenshot_dir: Path
) -> None:
    county = background.run(world.build("房屋县"))
    background.run(world.user("zhen.he", "t1", [(Role.township_officer, "t1")]))
    village = Village(world.database)
    background.run(village.person(county, "何丽", number=resident_id(51)))
    today = china_today().isoformat()

    page.set_viewport_size(PHONE)
    sign_in(page, live_server, county, "zhen.he")
    page.get_by_role("navigation", name="主菜单").get_by_role("link", name="出租房屋").click()
    for address, plate in (("一村东街12号", "CZ-001"), ("一村西街3号", "CZ-002")):
        page.get_by_label("所属村（居）").select_option(county.units["v11"])
        page.get_by_role("textbox", name="房屋地址", exact=True).fill(address)
        page.get_by_label("标记牌编号", exact=True).fill(plate)
        page.get_by_role("textbox", name="房主", exact=True).fill("张房东")
        page.get_by_role("button", name="登记", exact=True).click()
        expect(page.get_by_role("status")).to_have_text("出租房屋已登记。")
        page.get_by_label("租户身份证号码").fill(resident_id(51))
        page.get_by_label("入住日期").fill(today)
        page.get_by_role("button", name="登记入住").click()
        if plate == "CZ-001":
            expect(page.get_by_role("status")).to_have_text("已登记入住。")
            page.goto(live_server + "/housing")
    # She already lives in the first house: refused at the field, nothing written.
    expect(page.locator("#e-resident_id")).to_contain_text("何丽已登记住在一村东街12号（CZ-001）")
    check_page(page, screenshot_dir, "rental-house", phone=True)
    page.goto(live_server + "/housing")
    page.get_by_role("link", name="一村东街12号").click()
    page.get_by_label("迁出日期（何丽）").fill(today)
    page.get_by_role("button", name="登记迁出").click()
    expect(page.get_by_role("status")).to_have_text("已登记迁出。")
    expect(page.locator("section", has=page.locator("#history-title"))).to_contain_text("何丽")

    page.get_by_role("navigation", name="主菜单").get_by_role("link", name="免费服务").click()
    page.get_by_label("服务对象身份证号码").fill(resident_id(51))
    page.get_by_label("服务项目").select_option("pregnancy_iud_check")
    page.get_by_label("服务机构").fill("一镇计生服务站")
    page.get_by_label("服务日期").fill(today)
    page.get_by_role("button", name="登记", exact=True).click()
    expect(page.get_by_role("status")).to_have_text("服务已登记。")
    check_page(page, screenshot_dir, "free-services", phone=True)
