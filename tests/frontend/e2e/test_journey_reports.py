"""Supervision in the browser (issue #18): a county supervisor opens the cockpit, follows a red figure to the rows
behind it and downloads the month's statistical report as XLSX; a village coordinator sees only her village; the
assessment, target and platform pages. Every page passes axe-core and fits a 360 px phone; charts are drawn by
ECharts from the npm package the app serves."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook
from playwright.sync_api import Page, expect

from backend.authz.vocabulary import Role
from backend.core.clock import utc_now
from backend.db.tenancy import set_tenant
from backend.models import Case, CaseOutcome
from backend.reports.overview import refresh_county
from tests.backend.reports.scenario import case_row, write
from tests.frontend.e2e.conftest import BackgroundLoop, World
from tests.frontend.e2e.helpers import check_page, sign_in, sign_out

pytestmark = pytest.mark.e2e


def _check_rounds(world: World) -> dict[str, Case]:
    """Check rounds of this FP year: one done in v11, two overdue (v11 and v21): the 三查到位率 is red."""
    county, now = world.county, utc_now()
    rounds = {
        "done": case_row(
            county,
            "pregnancy_check_round",
            "E2E-C1",
            "v11",
            due=now - timedelta(days=3),
            closed=now - timedelta(days=5),
            outcome=CaseOutcome.completed,
            subject_name="林芳",
        ),
        "late": case_row(
            county, "pregnancy_check_round", "E2E-C2", "v11", due=now - timedelta(days=2), subject_name="高敏"
        ),
        "other": case_row(
            county, "pregnancy_check_round", "E2E-C3", "v21", due=now - timedelta(days=1), subject_name="罗娟"
        ),
    }
    return rounds


def _setup(world: World, background: BackgroundLoop) -> dict[str, Case]:
    background.run(world.build("驾驶舱县"))
    background.run(world.user("county.sup", "county", [(Role.county_supervisor, "county")]))
    background.run(world.user("v11.coord", "v11", [(Role.village_coordinator, "v11")]))
    rounds = _check_rounds(world)
    background.run(write(world.database, world.county, list(rounds.values())))
    return rounds


def test_county_supervisor_follows_a_red_figure_to_its_rows_and_downloads_the_months_xlsx(
    page: Page, live_server: str, world: World, background: BackgroundLoop, screenshot_dir: Path
) -> None:
    rounds = _setup(world, background)
    county = world.county
    sign_in(page, live_server, county, "county.sup")
    page.get_by_role("navigation", name="主菜单").get_by_role("link", name="指标", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("指标驾驶舱 · 驾驶舱县")
    row = page.locator("#row-check_rate")
    expect(row).to_contain_text("三查到位率")
    expect(row).to_contain_text("33.3%")
    expect(row.locator(".badge")).to_have_text("未达标")
    # The trend and ranking, drawn by ECharts from the table beside the chart.
    section = page.locator("#kpi-check_rate")
    section.locator("summary").click()
    expect(section.locator(".kpi-chart[data-drawn='1'] canvas")).to_be_visible()
    expect(section.get_by_role("table").last).to_contain_text("一镇")
    check_page(page, screenshot_dir, "kpis-cockpit", phone=True)

    # The red figure → the rows behind it: the two rounds not done, nothing else.
    row.get_by_role("link", name="待改进记录").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("三查到位率 · 明细")
    table = page.get_by_role("table")
    expect(table).to_contain_text(rounds["late"].number)
    expect(table).to_contain_text(rounds["other"].number)
    expect(table).not_to_contain_text(rounds["done"].number)
    expect(table.get_by_role("caption")).to_contain_text("共 2 条")
    check_page(page, screenshot_dir, "kpis-rows")
    page.get_by_role("link", name=rounds["late"].number).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(rounds["late"].number)

    # The month's statistical report, and its XLSX.
    page.get_by_role("navigation", name="主菜单").get_by_role("link", name="报表").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("统计报表")
    expect(page.locator(".report-table")).to_contain_text("驾驶舱县合计")
    check_page(page, screenshot_dir, "reports-month")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="导出 Excel").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".xlsx") and "驾驶舱县统计报表" in download.suggested_filename
    sheet = load_workbook(io.BytesIO(Path(download.path()).read_bytes())).active
    assert sheet is not None and sheet.page_setup.orientation == "landscape"
    assert str(sheet["A1"].value).startswith("驾驶舱县流动人口计划生育服务管理统计报表")

    # Publishing freezes it.
    page.get_by_role("button", name="发布").click()
    expect(page.get_by_role("status")).to_contain_text("报表已发布")
    expect(page.get_by_role("heading", level=1)).to_contain_text("第1版")
    check_page(page)


def test_a_village_coordinator_sees_only_her_village(
    page: Page, live_server: str, world: World, background: BackgroundLoop, screenshot_dir: Path
) -> None:
    rounds = _setup(world, background)
    county = world.county
    sign_in(page, live_server, county, "v11.coord")
    page.get_by_role("navigation", name="主菜单").get_by_role("link", name="指标", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("指标驾驶舱 · 一村")
    expect(page.locator("#row-check_rate")).to_contain_text("50.0%")  # her two rounds, not the third village's
    options = page.locator("#f-unit option")
    expect(options).to_have_count(1)
    expect(options.first).to_contain_text(county.units["v11"])
    check_page(page, screenshot_dir, "kpis-village", phone=True)
    page.locator("#row-check_rate").get_by_role("link", name="待改进记录").click()
    table = page.get_by_role("table")
    expect(table).to_contain_text(rounds["late"].number)
    expect(table).not_to_contain_text(rounds["other"].number)
    for unit in (county.code, county.units["t1"], county.units["v21"]):
        response = page.goto(f"{live_server}/kpis?unit={unit}")
        assert response is not None and response.status == 404
    response = page.goto(f"{live_server}/assessments")
    assert response is not None and response.status == 403
    sign_out(page)


def test_assessment_and_target_pages(
    page: Page, live_server: str, world: World, background: BackgroundLoop, screenshot_dir: Path
) -> None:
    _setup(world, background)
    background.run(world.user("admin", "county", [(Role.county_admin, "county")]))
    county = world.county
    sign_in(page, live_server, county, "county.sup")
    page.get_by_role("navigation", name="主菜单").get_by_role("link", name="考核").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("双向考核")
    # A scheme whose weights do not add up is refused at the scheme, and nothing is kept.
    page.locator("#weight_feedback_rate").fill("70")
    page.get_by_role("button", name="保存方案").click()
    expect(page.get_by_role("alert").first).to_be_visible()
    expect(page.locator("#scheme-title").locator("..")).to_contain_text("合计须为100")
    check_page(page, screenshot_dir, "assessments", phone=True)
    page.locator("#weight_feedback_rate").fill("20")
    page.get_by_role("button", name="保存方案").click()
    expect(page.get_by_role("status")).to_contain_text("考核方案已保存")
    page.get_by_role("button", name="发布乡镇排名").click()
    expect(page.get_by_role("status")).to_contain_text("已发布")
    check_page(page)
    sign_out(page)

    sign_in(page, live_server, county, "admin")
    page.get_by_role("navigation", name="主菜单").get_by_role("link", name="指标目标").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("指标目标")
    target = page.locator("#kpi-check_rate")
    target.get_by_label("目标（%）").fill("30")
    target.get_by_role("button", name="保存").click()
    expect(page.get_by_role("status")).to_contain_text("目标已保存")
    expect(page.locator("#kpi-check_rate")).to_contain_text("≥ 30.0%")
    check_page(page, screenshot_dir, "kpi-targets")


def test_platform_operator_sees_each_countys_counts_and_no_one(
    page: Page, live_server: str, world: World, background: BackgroundLoop, screenshot_dir: Path
) -> None:
    _setup(world, background)

    async def refresh() -> None:
        async with world.database.sessionmaker() as session, session.begin():
            await set_tenant(session, world.county.tenant.id)
            await refresh_county(session, world.county.code)

    background.run(refresh())
    page.goto(f"{live_server}/platform/kpis")
    expect(page.get_by_role("heading", level=1)).to_have_text("平台管理员登录")
    page.get_by_label("平台令牌").fill(world.settings.platform_admin_token)
    page.get_by_role("button", name="登录").click()
    page.goto(f"{live_server}/platform/kpis")
    expect(page.get_by_role("heading", level=1)).to_have_text("各县指标总览")
    section = page.locator("#kpi-check_rate")
    section.locator("summary").click()
    expect(section).to_contain_text(f"驾驶舱县（{world.county.code}）")
    expect(page.locator("main")).not_to_contain_text("林芳")
    check_page(page, screenshot_dir, "platform-kpis")
