"""The reward register page (奖励扶助台账, P17; issue #22 item 2): a township officer finds the year's application with
its payee and state, and the year's totals per policy. The page passes axe-core and fits a 360 px phone."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from backend.authz.vocabulary import Role
from backend.core.clock import china_today
from backend.db.tenancy import set_tenant
from backend.identity.service import principal_for_user
from backend.models import Sex
from backend.rewards import service as rewards
from backend.rewards.schemas import RewardCreate
from tests.backend.rewards.conftest import add_couple
from tests.fixtures.identity import County
from tests.frontend.e2e.conftest import BackgroundLoop, World
from tests.frontend.e2e.helpers import check_page, sign_in

pytestmark = pytest.mark.e2e


async def _apply(world: World, county: County) -> str:
    """A rural reward assistance application for a couple of v11, as the officer's API call makes it."""
    wife, husband = await add_couple(world.database, county, children=(Sex.female,), born=date(1962, 3, 1))
    async with world.database.sessionmaker() as session, session.begin():
        await set_tenant(session, county.tenant.id)
        principal = await principal_for_user(session, county.users["song.t1"], None, county.code)
        body = RewardCreate(
            policy="rural_reward_assistance",
            org_unit_code=county.units["v11"],
            year=china_today().year,
            applicant_id=wife.id,
            spouse_id=husband.id,
            payee_id=wife.id,
        )
        return (await rewards.apply_for_reward(session, principal, body)).case_number


def test_the_reward_register_lists_the_years_applications_and_totals(
    page: Page, live_server: str, world: World, background: BackgroundLoop, screenshot_dir: Path
) -> None:
    county = background.run(world.build("奖扶县"))
    background.run(world.user("song.t1", "t1", [(Role.township_officer, "t1")]))
    number = background.run(_apply(world, county))
    sign_in(page, live_server, county, "song.t1")
    page.get_by_role("navigation", name="主菜单").get_by_role("link", name="奖励扶助").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("奖励扶助台账")
    row = page.get_by_test_id("reward-row")
    expect(row).to_contain_text(number)
    expect(row).to_contain_text("李秀兰")
    expect(row).to_contain_text("审批中")
    expect(row).to_contain_text("960.00")
    # The year's totals: one application of the rural reward assistance, none granted yet.
    expect(page.get_by_test_id("totals-row").get_by_role("cell")).to_have_text(
        ["农村计划生育家庭奖励扶助", "1", "0", "0", "0"]
    )
    check_page(page, screenshot_dir, "rewards", phone=True)
    page.get_by_label("年度").fill(str(china_today().year - 1))
    page.get_by_role("button", name="查询").click()
    expect(page.get_by_test_id("reward-row")).to_have_count(0)
    check_page(page)
