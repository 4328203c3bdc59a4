"""Issue #19's delivery pages in the browser: an officer opens 通知设置 from the notification page, chooses SMS
without a number and is told so at the field, gives the number and saves; the county admin's 投递渠道 page tells
in Chinese what is wrong (a gateway host that does not resolve, a channel not set up for the test send)."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from backend.authz.vocabulary import Role
from tests.frontend.e2e.conftest import BackgroundLoop, World
from tests.frontend.e2e.helpers import check_page, sign_in, sign_out

pytestmark = pytest.mark.e2e


def test_an_officer_chooses_her_channels_and_the_admin_sees_why_a_test_send_failed(
    page: Page, live_server: str, world: World, background: BackgroundLoop, screenshot_dir: Path
) -> None:
    county = background.run(world.build("投递县"))
    background.run(world.user("officer", "t1", [(Role.township_officer, "t1")]))
    background.run(world.user("admin", "county", [(Role.county_admin, "county")]))

    sign_in(page, live_server, county, "officer")
    page.goto(f"{live_server}/notifications")
    page.get_by_role("link", name="通知设置").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("通知设置")
    page.get_by_role("row", name="案件分配").get_by_label("短信").check()
    page.get_by_role("button", name="保存").click()
    expect(page.locator("#e-phone")).to_contain_text("选择了短信通知，请填写手机号码")
    expect(page.get_by_role("row", name="案件分配").get_by_label("短信")).to_be_checked()
    page.get_by_label("手机号码").fill("13812345678")
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_role("status")).to_have_text("通知设置已保存。")
    expect(page.get_by_text("已保存：138****5678")).to_be_visible()
    check_page(page, screenshot_dir, "notification-settings", phone=True)
    sign_out(page)

    sign_in(page, live_server, county, "admin")
    page.goto(f"{live_server}/admin/delivery")
    expect(page.get_by_role("heading", level=1)).to_have_text("投递渠道")
    page.get_by_label("网关地址").fill("https://sms-gateway.invalid/send")
    page.get_by_label("网关令牌").fill("token")
    page.get_by_role("button", name="保存").click()
    expect(page.locator("#e-sms_url")).to_contain_text("主机名无法解析")
    page.get_by_label("渠道", exact=True).select_option("email")
    page.get_by_label("测试收件地址").fill("admin@county.example.cn")
    page.get_by_role("button", name="发送测试消息").click()
    expect(page.get_by_test_id("test-send-result")).to_contain_text("本县未设置该渠道")
    check_page(page, screenshot_dir, "admin-delivery")
    page.goto(f"{live_server}/admin/delivery/failed")
    expect(page.get_by_role("heading", level=1)).to_have_text("投递失败")
    check_page(page, screenshot_dir, "admin-delivery-failed")
