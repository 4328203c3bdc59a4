"""The yearly archive page of issue #22 (P26): a county supervisor asks for last year's volume of the county (this
year first, refused at its field), the worker binds it, and the page offers its index and manifest. The page passes
axe-core and fits a 360 px phone."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from backend.authz.vocabulary import Role
from backend.core.clock import china_today
from backend.core.outbox import BuildArchive, OutboxKind
from backend.db.tenancy import set_tenant
from backend.models import OutboxMessage
from tests.fixtures.identity import County
from tests.frontend.e2e.conftest import BackgroundLoop, World
from tests.frontend.e2e.helpers import check_page, sign_in
from workflows.outbox_handlers import archive_handlers

pytestmark = pytest.mark.e2e


async def _bind(world: World, county: County) -> None:
    """What the worker's relay does with the request's outbox message."""
    async with world.database.sessionmaker() as session, session.begin():
        await set_tenant(session, county.tenant.id)
        payload = await session.scalar(select(OutboxMessage.payload).where(OutboxMessage.kind == "archive.build"))
    assert payload is not None
    await archive_handlers(world.database)[OutboxKind.archive_build](BuildArchive.model_validate(payload))


def test_journey_a_years_volume_is_requested_bound_and_offered(
    page: Page, live_server: str, world: World, background: BackgroundLoop, screenshot_dir: Path
) -> None:
    county = background.run(world.build("归档县"))
    background.run(world.user("zhang.county", "county", [(Role.county_supervisor, "county")]))
    sign_in(page, live_server, county, "zhang.county")
    page.get_by_role("navigation", name="主菜单").get_by_role("link", name="年度归档").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("年度归档")
    page.get_by_label("单位").select_option(county.units["county"])
    page.get_by_label("年度").fill(str(china_today().year))
    page.get_by_role("button", name="开始归档").click()
    expect(page.locator("#e-year")).to_contain_text("只能归档已经结束的年度")
    check_page(page)
    page.get_by_label("年度").fill(str(china_today().year - 1))
    page.get_by_role("button", name="开始归档").click()
    expect(page.get_by_role("status")).to_have_text("已提交归档，后台正在装订，完成后可在下方下载。")
    expect(page.get_by_test_id("volume-row")).to_contain_text("装订中")
    background.run(_bind(world, county))
    page.reload()
    row = page.get_by_test_id("volume-row")
    expect(row).to_contain_text("已归档")
    expect(row.get_by_role("link", name="目录 PDF")).to_be_visible()
    expect(row.get_by_role("link", name="校验清单")).to_be_visible()
    check_page(page, screenshot_dir, "archive", phone=True)
