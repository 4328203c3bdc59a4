"""Signing in and out in a real browser, against the app on the real services."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from backend.authz.vocabulary import Role
from backend.config import Settings
from backend.db.engine import Database
from backend.models import Tenant
from backend.tenants.schemas import TenantCreate
from backend.tenants.service import provision_tenant
from tests.fixtures.browser import run_in_own_loop
from tests.fixtures.database import unique_county_code
from tests.fixtures.identity import PASSWORD, County, add_user, build_county

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def county_with_officer(settings: Settings) -> County:
    async def build() -> County:
        database = Database.from_settings(settings)

        async def provision(name: str = "浏览器县", code: str | None = None) -> Tenant:
            async with database.sessionmaker() as session, session.begin():
                return await provision_tenant(session, TenantCreate(code=code or unique_county_code(), name=name))

        try:
            county = await build_county(database, provision, "浏览器测试县")
            await add_user(database, county, "zhou.officer", "t1", [(Role.township_officer, "t1")])
            return county
        finally:
            await database.dispose()

    return run_in_own_loop(build)


def _sign_in(page: Page, live_server: str, county: County, password: str) -> None:
    page.goto(live_server + "/login")
    page.get_by_label("所属区县").select_option(county.code)
    page.get_by_label("用户名").fill("zhou.officer")
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()


def test_sign_in_shows_the_dashboard_and_sign_out_ends_it(
    page: Page, live_server: str, county_with_officer: County, screenshot_dir: Path
) -> None:
    county = county_with_officer
    _sign_in(page, live_server, county, "Wrong-password-0")
    expect(page.get_by_role("alert")).to_contain_text("用户名或密码错误")
    page.screenshot(path=str(screenshot_dir / "login.zh-CN.png"), full_page=True)

    _sign_in(page, live_server, county, PASSWORD)
    expect(page.get_by_role("heading", level=1)).to_have_text("工作台")
    # Her jurisdiction is shown by name, the unit code on hover.
    jurisdiction = page.locator("table span.unit")
    expect(jurisdiction).to_have_text("一镇")
    expect(jurisdiction).to_have_attribute("title", county.units["t1"])
    page.screenshot(path=str(screenshot_dir / "dashboard.zh-CN.png"), full_page=True)

    page.get_by_role("button", name="退出").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("登录")
    page.goto(live_server + "/dashboard")
    expect(page).to_have_url(live_server + "/login?next=%2Fdashboard")


def test_a_form_without_its_csrf_token_is_refused(page: Page, live_server: str, county_with_officer: County) -> None:
    county = county_with_officer
    page.goto(live_server + "/login")
    page.evaluate("document.querySelector('input[name=csrf_token]').value = 'forged'")
    page.get_by_label("所属区县").select_option(county.code)
    page.get_by_label("用户名").fill("zhou.officer")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("alert")).to_contain_text("页面已过期")
