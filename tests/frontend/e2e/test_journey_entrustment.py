"""The entrustment journey of issue #22 (P21): a township officer entrusts a case to another township of the county
from the case page (the reason first forgotten and asked for at its field); the receiving township's officer finds it
under 委托, is asked for a reason when she returns it without one, and accepts it: the case is now her township's.
Every page passes axe-core and fits a 360 px phone."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from backend.authz.vocabulary import Role
from tests.frontend.e2e.conftest import BackgroundLoop, World
from tests.frontend.e2e.helpers import check_page, sign_in, sign_out

pytestmark = pytest.mark.e2e


def test_journey_a_case_entrusted_to_another_township_and_accepted(
    page: Page, live_server: str, world: World, background: BackgroundLoop, screenshot_dir: Path
) -> None:
    county = background.run(world.build("委托县"))
    background.run(world.user("song.t1", "t1", [(Role.township_officer, "t1")]))
    background.run(world.user("li.t2", "t2", [(Role.township_officer, "t2")]))
    case = background.run(world.case("赵丽", "v11", assignee="song.t1"))

    sign_in(page, live_server, county, "song.t1")
    page.goto(f"{live_server}/cases/{case.id}")
    page.get_by_label("委托给").select_option(county.units["t2"])
    page.get_by_role("button", name="委托", exact=True).click()
    expect(page.locator("#e-entrust_reason")).to_be_visible()
    page.get_by_label("委托给").select_option(county.units["t2"])
    page.get_by_label("委托理由").fill("当事人现居住地在二街道")
    page.get_by_role("button", name="委托", exact=True).click()
    expect(page.get_by_role("status")).to_have_text("委托已发出，等待对方乡镇接收；接收前仍由本乡镇办理。")
    expect(page.get_by_test_id("entrustment")).to_contain_text("待接收：当事人现居住地在二街道")
    check_page(page, screenshot_dir, "entrustment-case", phone=True)
    sign_out(page)

    sign_in(page, live_server, county, "li.t2")
    page.get_by_role("navigation", name="主菜单").get_by_role("link", name="委托").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("收到的委托")
    row = page.get_by_test_id("entrustment-row")
    expect(row).to_contain_text(case.number)
    row.get_by_role("button", name="退回").click()
    expect(page.locator("[id^='e-reason-']")).to_be_visible()
    check_page(page)
    page.get_by_test_id("entrustment-row").get_by_role("button", name="接收").click()
    expect(page.get_by_role("status")).to_have_text("已接收，案件已转入本乡镇。")
    expect(page.get_by_test_id("entrustment-row")).to_contain_text("已接收")
    check_page(page, screenshot_dir, "entrustments", phone=True)
    page.goto(f"{live_server}/cases/{case.id}")
    expect(page.get_by_test_id("entrustment")).to_contain_text("已接收")
