"""What the browser journeys share: signing in, the axe-core check, the 360 px check and screenshots."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.sync_api import Page, expect

from tests.fixtures.identity import PASSWORD, County

# axe-core rule tags: WCAG 2.x A and AA, which include form labels and colour contrast.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def sign_in(page: Page, live_server: str, county: County, username: str, password: str = PASSWORD) -> None:
    page.goto(live_server + "/login")
    page.get_by_label("所属区县").select_option(county.code)
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("工作台")


def sign_out(page: Page) -> None:
    page.get_by_role("button", name="退出").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("登录")


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """Run axe-core (served by the app from npm, like every asset) on the page as it is now."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(url="/static/vendor/axe.min.js")
    result: dict[str, Any] = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})", AXE_TAGS
    )
    return [
        {"id": violation["id"], "help": violation["help"], "nodes": [node["target"] for node in violation["nodes"]]}
        for violation in result["violations"]
    ]


def assert_accessible(page: Page) -> None:
    violations = axe_violations(page)
    assert violations == [], f"axe-core found violations on {page.url}: {violations}"


def assert_fits_phone(page: Page, screenshot: Path | None = None) -> None:
    """The page as it is now, at 360 px wide, scrolls only vertically; the viewport is restored afterwards."""
    size = page.viewport_size
    page.set_viewport_size({"width": 360, "height": 740})
    try:
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"{page.url} scrolls sideways by {overflow}px at 360px wide"
        if screenshot is not None:
            page.screenshot(path=str(screenshot), full_page=True)
    finally:
        if size:
            page.set_viewport_size(size)


def check_page(page: Page, screenshot_dir: Path | None = None, name: str | None = None, *, phone: bool = False) -> None:
    """Every page a journey visits: no axe-core violations, fits a 360 px phone, and (optionally) a screenshot
    for the user guide, also at phone width with `phone`."""
    assert_accessible(page)
    phone_shot = screenshot_dir / f"{name}.phone.zh-CN.png" if screenshot_dir and name and phone else None
    assert_fits_phone(page, phone_shot)
    if screenshot_dir is not None and name is not None:
        page.screenshot(path=str(screenshot_dir / f"{name}.zh-CN.png"), full_page=True)
