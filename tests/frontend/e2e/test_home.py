"""The first pages, in Debian's Chromium with CJK fonts, against the app on the real services."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.frontend.e2e.helpers import axe_violations

pytestmark = pytest.mark.e2e


def test_home_page_is_chinese_first_and_switches_to_english(page: Page, live_server: str, screenshot_dir: Path) -> None:
    page.goto(live_server + "/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.get_by_role("heading", level=1)).to_have_text("流动人口计划生育服务管理平台")
    page.screenshot(path=str(screenshot_dir / "home.zh-CN.png"), full_page=True)

    page.get_by_role("link", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=1)).to_have_text("Floating-population family-planning service platform")

    page.get_by_role("link", name="中文").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("流动人口计划生育服务管理平台")


def test_unknown_page_shows_the_friendly_404_without_internals(page: Page, live_server: str) -> None:
    response = page.goto(live_server + "/no-such-page/00000000-0000-0000-0000-000000000000")
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("页面不存在或您无权查看")
    expect(page.locator("body")).not_to_contain_text("Traceback")


def test_home_page_fits_a_360px_phone(page: Page, live_server: str) -> None:
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto(live_server + "/")
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0


def test_the_accessibility_check_catches_an_unlabelled_field_and_low_contrast(page: Page, live_server: str) -> None:
    """The axe-core check the journeys run is real: it fails on the faults it is there to catch."""
    page.goto(live_server + "/")
    assert axe_violations(page) == []
    # The content security policy refuses inline `style` attributes and <style> elements, so the pale text gets
    # its colours through the CSSOM, which the policy leaves to the page's own scripts.
    page.evaluate(
        """() => {
            const main = document.querySelector('main');
            main.insertAdjacentHTML('beforeend', '<input type="text" name="nameless">');
            const pale = document.createElement('p');
            pale.textContent = '浅灰色的字';
            pale.style.color = '#bbb';
            pale.style.background = '#fff';
            main.append(pale);
        }"""
    )
    assert {violation["id"] for violation in axe_violations(page)} >= {"label", "color-contrast"}


def test_the_first_tab_stop_skips_to_the_content_with_a_visible_focus(page: Page, live_server: str) -> None:
    page.goto(live_server + "/login")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="跳到正文")
    expect(skip).to_be_focused()
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline not in ("", "none")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"#main$"))
