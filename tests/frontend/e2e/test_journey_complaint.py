"""The complaint journey of issue #22: a township officer records a hotline complaint naming the complainant (the
name first forgotten and asked for at its field); the complaint names a prohibited practice and is flagged; once a
handling officer is assigned she sees who complained and records the outcome, while a colleague of the same township
reads 「保密」 in the register and on the complaint. Every page passes axe-core and fits a 360 px phone."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import update

from backend.authz.vocabulary import Role
from backend.db.tenancy import set_tenant
from backend.models import Case
from tests.fixtures.identity import County
from tests.frontend.e2e.conftest import BackgroundLoop, World
from tests.frontend.e2e.helpers import check_page, sign_in, sign_out

pytestmark = pytest.mark.e2e


async def _assign(world: World, county: County, case_id: uuid.UUID, username: str) -> None:
    """The township supervisor's assignment of the handling case (the case pages' own journey covers it)."""
    async with world.database.sessionmaker() as session, session.begin():
        await set_tenant(session, county.tenant.id)
        assignee = county.users[username].id
        await session.execute(update(Case).where(Case.id == case_id).values(assignee_id=assignee))


def test_journey_confidential_complaint_seen_masked_by_a_colleague(
    page: Page, live_server: str, world: World, background: BackgroundLoop, screenshot_dir: Path
) -> None:
    county = background.run(world.build("维权县"))
    background.run(world.user("jiedai.sun", "t1", [(Role.township_officer, "t1")]))
    background.run(world.user("chengban.zhou", "t1", [(Role.township_officer, "t1")]))

    # 登记: the hotline call, recorded by the officer on duty.
    sign_in(page, live_server, county, "jiedai.sun")
    page.get_by_role("navigation", name="主菜单").get_by_role("link", name="投诉举报").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("投诉举报")
    page.get_by_role("link", name="登记投诉举报").click()
    page.get_by_label("渠道").select_option("hotline")
    page.get_by_label("承办单位").select_option(county.units["t1"])
    page.get_by_label("事由").fill("被要求回户籍地查环")
    page.get_by_label("具体内容").fill("我在本镇务工，计生办要求我回户籍地做环孕检，否则不给办婚育证明。")
    page.get_by_role("button", name="登记").click()
    expect(page.locator("#e-complainant_name")).to_contain_text("请填写投诉人姓名，或选择匿名")
    expect(page.get_by_label("事由")).to_have_value("被要求回户籍地查环")  # her input is kept
    check_page(page, screenshot_dir, "complaint-form", phone=True)
    page.get_by_label("投诉举报人姓名").fill("陈小梅")
    page.get_by_label("联系方式").fill("13800138000")
    page.get_by_role("button", name="登记").click()
    expect(page.get_by_role("status")).to_have_text("已登记，承办案件已开立。")
    expect(page.get_by_test_id("practice-flag")).to_contain_text("强行要求返回户籍地查环查孕")
    # Not handling it, she reads 「保密」 herself.
    expect(page.get_by_test_id("complainant")).to_have_text("保密 · 保密")
    complaint_url = page.url.split("?")[0]
    case_link = page.get_by_role("link", name=f"{county.code}-", exact=False).get_attribute("href")
    assert case_link is not None
    case_id = uuid.UUID(case_link.split("/")[-1])
    sign_out(page)

    # 承办: the handling officer sees who complained and records the outcome and the reply.
    background.run(_assign(world, county, case_id, "chengban.zhou"))
    sign_in(page, live_server, county, "chengban.zhou")
    page.goto(complaint_url)
    expect(page.get_by_test_id("complainant")).to_have_text("陈小梅 · 13800138000")
    page.locator("#f-outcome").fill("经核实，已责令纠正，不得要求返回户籍地检查。")
    page.get_by_label("答复投诉举报人").fill("已电话答复投诉人。")
    page.get_by_role("button", name="记录办理结果").click()
    expect(page.get_by_role("status")).to_have_text("办理结果已记录。")
    check_page(page, screenshot_dir, "complaint-detail", phone=True)
    sign_out(page)

    # A colleague of the same township: 「保密」 in the register and on the complaint.
    sign_in(page, live_server, county, "jiedai.sun")
    page.goto(f"{live_server}/complaints")
    row = page.get_by_test_id("complaint-row")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("保密")
    expect(row).to_contain_text("涉及违规行为")
    expect(page.locator("main")).not_to_contain_text("陈小梅")
    check_page(page, screenshot_dir, "complaint-list")
    row.get_by_role("link", name="被要求回户籍地查环").click()
    expect(page.get_by_test_id("complainant")).to_have_text("保密 · 保密")
    expect(page.locator("main")).not_to_contain_text("13800138000")
