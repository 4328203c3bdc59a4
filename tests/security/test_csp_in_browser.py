"""The content security policy in a real browser: the pages, their HTMX swaps and the API documentation work under
it, and Chromium reports no violation (an inline script or style anywhere would show here)."""

from __future__ import annotations

import pytest
from playwright.sync_api import ConsoleMessage, Page, expect

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
def county(settings: Settings) -> County:
    async def build() -> County:
        database = Database.from_settings(settings)

        async def provision(name: str = "策略县", code: str | None = None) -> Tenant:
            async with database.sessionmaker() as session, session.begin():
                return await provision_tenant(session, TenantCreate(code=code or unique_county_code(), name=name))

        try:
            county = await build_county(database, provision, "内容安全策略县")
            await add_user(database, county, "csp.admin", "county", [(Role.county_admin, "county")])
            await add_user(database, county, "csp.clerk", "t1", [(Role.township_officer, "t1")])
            return county
        finally:
            await database.dispose()

    return run_in_own_loop(build)


def _violations(page: Page) -> list[str]:
    found: list[str] = []

    def check(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text:
            found.append(message.text)

    page.on("console", check)
    page.on("pageerror", lambda error: found.append(str(error)))
    return found


def test_pages_htmx_and_the_api_documentation_work_under_the_policy(
    page: Page, live_server: str, county: County
) -> None:
    violations = _violations(page)
    page.goto(live_server + "/login")
    page.get_by_label("所属区县").select_option(county.code)
    page.get_by_label("用户名").fill("csp.admin")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("工作台")

    # A grant through the HTMX form: htmx (a script file) runs, and swaps the grants in place.
    page.goto(f"{live_server}/admin/users/{county.users['csp.clerk'].id}")
    page.get_by_label("角色").select_option("township_supervisor")
    page.get_by_label("授权范围").select_option(county.units["t1"])
    page.get_by_role("button", name="授权").click()
    expect(page.locator("#grants table")).to_contain_text("乡镇（街道）负责人")

    page.goto(live_server + "/docs")
    # Swagger UI parses a 1.4 MB bundle before it draws; a loaded CI machine needs more than the default 5 s.
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("流管 Liuguan API", timeout=30_000)
    expect(page.locator(".opblock-tag").first).to_be_visible()
    assert violations == []
