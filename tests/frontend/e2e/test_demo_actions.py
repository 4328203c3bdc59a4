"""No silent outcome: after an action the case page follows the workflow's decision (HTMX polling of the action's
status) and shows it, a rejection with its reason; actions the case cannot take are not offered. Over the demo data,
with the demo's real worker deciding."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.fixtures.demo import Demo
from tests.frontend.e2e.demo_helpers import sign_in_demo
from tests.frontend.e2e.helpers import check_page

pytestmark = [pytest.mark.e2e, pytest.mark.demo]


def test_two_officers_advance_one_case_and_the_second_sees_why_it_was_refused(
    page: Page, browser: Browser, live_server: str, demo: Demo, screenshot_dir: Path
) -> None:
    case_id = demo.run(demo.case_id("330106", "case_type = 'first_child_registration' AND stage = 'follow_up'"))
    sign_in_demo(page, live_server, "330106", "xh.township")
    other = browser.new_context(viewport=page.viewport_size).new_page()
    sign_in_demo(other, live_server, "330106", "xh.township2")
    assert demo.relay is not None
    demo.relay.paused = True  # both officers act before the workflow has decided either
    try:
        for officer in (page, other):
            officer.goto(f"{live_server}/cases/{case_id}")
            officer.get_by_label("操作").select_option("advance")
            officer.get_by_role("button", name="提交", exact=True).click()
            expect(officer.get_by_test_id("action-status")).to_contain_text("正在等待流程处理")
    finally:
        demo.relay.paused = False
    # The first is applied and the page reloads on the case as it now is; the second is refused, with the reason.
    expect(page.get_by_test_id("action-status")).to_contain_text("操作已完成", timeout=30_000)
    expect(page.get_by_test_id("action-status")).to_contain_text("审核")
    refused = other.get_by_test_id("action-status").get_by_role("alert")
    expect(refused).to_have_text("操作未被接受：已是最后一个办理阶段，请办结", timeout=30_000)
    # The refused officer's page was reloaded on the case as it now is: at its last stage, without 提交本阶段.
    check_page(other, screenshot_dir, "case-action-refused")
    options = other.get_by_label("操作").locator("option").all_inner_texts()
    assert "提交本阶段" not in options and "办结" in options
    other.context.close()
