"""Signing in as a demo user in the browser journeys over the demo data."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from backend.demo.seed import DEMO_PASSWORD


def sign_in_demo(page: Page, live_server: str, county: str, username: str) -> None:
    page.goto(live_server + "/login")
    page.get_by_label("所属区县").select_option(county)
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("工作台")
