"""The tours of the README over the demo data, one per role, as county staff walk them in Chromium: nothing set up
beyond the demo `make run` loads. Each takes the screenshots the user guide shows (docs/screenshots/tour-*)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.fixtures.demo import Demo
from tests.frontend.e2e.demo_helpers import sign_in_demo
from tests.frontend.e2e.helpers import check_page

pytestmark = [pytest.mark.e2e, pytest.mark.demo]

XIHU = "330106"


def test_village_coordinator_finds_her_people_and_prints_a_record(
    page: Page, live_server: str, demo: Demo, screenshot_dir: Path
) -> None:
    sign_in_demo(page, live_server, XIHU, "xh.village")
    expect(page.locator(".start-here")).to_contain_text("人员")
    page.get_by_role("navigation", name="主菜单").get_by_role("link", name="人员").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("人员")
    expect(page.locator("table a[href^='/persons/']").first).to_be_visible()
    # A mother of her village: her spouse, children, certificate and cases on one page.
    mother = demo.run(
        demo.scalar(
            XIHU,
            "SELECT p.id FROM persons p WHERE p.tenant_id = current_setting('app.tenant_id')::uuid"
            " AND p.org_unit_code = '330106001001' AND p.status = 'active' AND p.spouse_id IS NOT NULL"
            " AND EXISTS (SELECT 1 FROM case_subjects s WHERE s.person_id = p.id) ORDER BY p.name LIMIT 1",
        )
    )
    page.goto(f"{live_server}/persons/{mother}")
    expect(page.get_by_test_id("person-spouse").get_by_role("link")).to_be_visible()
    expect(page.get_by_test_id("person-cases").get_by_role("link").first).to_be_visible()
    expect(page.get_by_role("heading", level=2, name="流动信息")).to_be_visible()
    expect(page.get_by_role("heading", level=2, name="配偶和子女")).to_be_visible()
    expect(page.get_by_role("button", name="打印")).to_be_visible()
    check_page(page, screenshot_dir, "tour-village-person")


def test_township_officer_sees_overdue_cases_an_answer_from_the_other_county_and_a_notification(
    page: Page, live_server: str, demo: Demo, screenshot_dir: Path
) -> None:
    sign_in_demo(page, live_server, XIHU, "xh.township")
    overdue = int(page.get_by_test_id("overdue-count").inner_text())
    assert overdue > 0
    check_page(page, screenshot_dir, "tour-township-dashboard")
    page.get_by_role("link", name=re.compile("已超期")).first.click()
    expect(page.get_by_test_id("case-total")).to_have_text(str(overdue))
    expect(page.locator(".badge.overdue").first).to_be_visible()
    check_page(page, screenshot_dir, "tour-township-overdue")
    # A request to 阜南 that 阜南 answered, with its answer, and the case it belongs to.
    page.goto(live_server + "/verification/outbox?kind=request&state=answered")
    answered = page.locator("tbody tr", has_text="已反馈：")
    expect(answered.first).to_contain_text("经核实")
    check_page(page, screenshot_dir, "tour-township-answered")
    # A department's notification waiting for the township to verify, accept or reject.
    page.get_by_role("navigation", name="主菜单").get_by_role("link", name="部门通报").click()
    expect(page.get_by_test_id("triage-item").first).to_be_visible()
    check_page(page, screenshot_dir, "tour-township-triage")


def test_township_supervisor_sees_her_units_and_reassigns_from_the_list(
    page: Page, live_server: str, demo: Demo, screenshot_dir: Path
) -> None:
    sign_in_demo(page, live_server, XIHU, "xh.township.sup")
    expect(page.get_by_role("heading", name="各单位案件")).to_be_visible()
    page.get_by_role("navigation", name="主菜单").get_by_role("link", name="案件").click()
    expect(page.get_by_role("button", name="改派所选案件")).to_be_visible()
    check_page(page, screenshot_dir, "tour-township-supervisor-cases")


def test_county_supervisor_follows_a_case_escalated_to_the_county(
    page: Page, live_server: str, demo: Demo, screenshot_dir: Path
) -> None:
    escalated = demo.run(
        demo.case_id(XIHU, "id IN (SELECT case_id FROM case_alerts WHERE kind = 'escalation' AND level = 3)")
    )
    sign_in_demo(page, live_server, XIHU, "xh.county.sup")
    assert int(page.get_by_test_id("overdue-count").inner_text()) > 0
    page.goto(f"{live_server}/cases/{escalated}")
    expect(page.get_by_test_id("case-alerts")).to_contain_text("已报县级负责人督办")
    expect(page.get_by_role("button", name="打印")).to_be_visible()
    check_page(page, screenshot_dir, "tour-county-escalated")


def test_auditor_filters_the_audit_log_and_checks_the_chain(
    page: Page, live_server: str, demo: Demo, screenshot_dir: Path
) -> None:
    sign_in_demo(page, live_server, XIHU, "xh.auditor")
    page.get_by_role("navigation", name="主菜单").get_by_role("link", name="审计").click()
    page.get_by_label("对象").select_option("person")
    page.get_by_role("button", name="查询").click()
    expect(page.locator("tbody tr").first).to_contain_text("人员")
    check_page(page, screenshot_dir, "tour-auditor")


def test_admin_manages_a_user_and_a_case_types_alerts(
    page: Page, live_server: str, demo: Demo, screenshot_dir: Path
) -> None:
    sign_in_demo(page, live_server, XIHU, "xh.admin")
    page.get_by_role("navigation", name="主菜单").get_by_role("link", name="用户与角色").click()
    page.get_by_role("link", name="xh.township", exact=True).click()
    expect(page.get_by_test_id("account-state")).to_contain_text("启用")
    expect(page.get_by_role("button", name="停用账号")).to_be_visible()
    expect(page.get_by_role("button", name="重置密码")).to_be_visible()
    check_page(page, screenshot_dir, "tour-admin-user")
    page.goto(live_server + "/admin/case-types/inflow_registration")
    expect(page.get_by_label("到期前几个工作日提醒承办人")).to_be_visible()
