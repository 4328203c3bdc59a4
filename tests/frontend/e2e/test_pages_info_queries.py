"""The information-query ledger pages (人口信息查询登记, P19; issue #22 item 4): a township officer records a vetting
query with its documents, cannot answer it before the scan of the signed application form is uploaded (through the
documents module), uploads it and answers; the ledger shows the norm's fields. Each page passes axe-core and fits a
360 px phone."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import Page, expect

from backend.authz.vocabulary import Role
from backend.models import Sex
from tests.backend.rewards.conftest import add_resident
from tests.frontend.e2e.conftest import BackgroundLoop, World
from tests.frontend.e2e.helpers import check_page, sign_in

pytestmark = pytest.mark.e2e


def _scan() -> bytes:
    output = io.BytesIO()
    Image.new("RGB", (200, 280), "white").save(output, format="PDF")
    return output.getvalue()


def test_a_query_is_recorded_signed_answered_and_in_the_ledger(
    page: Page, live_server: str, world: World, background: BackgroundLoop, screenshot_dir: Path
) -> None:
    county = background.run(world.build("查询县"))
    background.run(world.user("wang.t1", "t1", [(Role.township_officer, "t1")]))
    subject = background.run(add_resident(world.database, county, "李秀兰", sex=Sex.female, born=date(1988, 3, 1)))

    sign_in(page, live_server, county, "wang.t1")
    page.get_by_role("navigation", name="主菜单").get_by_role("link", name="信息查询登记").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("人口信息查询登记")
    page.get_by_role("link", name="登记查询").click()
    page.get_by_label("受理单位").select_option(county.units["t1"])
    page.get_by_label("查询事由").select_option("vetting")
    page.get_by_label("查询人姓名").fill("王警官")
    page.get_by_label("查询人单位").fill("某部队政治部")
    page.get_by_label("单位介绍信").check()
    page.get_by_label("工作证、警官证或身份证").check()
    page.get_by_label("被查询人（人员编号）").fill(str(subject.id))
    page.get_by_role("button", name="登记", exact=True).click()
    # Not told and not signed: refused at its field, nothing recorded, the typing kept.
    expect(page.locator("#e-application_signed")).to_be_visible()
    expect(page.get_by_label("查询人姓名")).to_have_value("王警官")
    check_page(page, screenshot_dir, "info-query-form", phone=True)
    page.get_by_label("已告知注意事项，查询人已签署《人口信息查询申请表》").check()
    page.get_by_label("单位介绍信").check()
    page.get_by_label("工作证、警官证或身份证").check()
    page.get_by_role("button", name="登记", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("已登记")

    page.get_by_role("button", name="查询并答复").click()
    expect(page.get_by_role("alert").first).to_contain_text("须先上传查询人签署的《人口信息查询申请表》扫描件")
    page.get_by_label("申请表扫描件（PDF或图片）").set_input_files(
        {"name": "查询申请表.pdf", "mimeType": "application/pdf", "buffer": _scan()}
    )
    page.get_by_role("button", name="上传").click()
    expect(page.get_by_role("status")).to_have_text("签署件已上传。")
    expect(page.get_by_test_id("scan")).to_contain_text("查询申请表.pdf")
    page.get_by_role("button", name="查询并答复").click()
    expect(page.get_by_role("status")).to_have_text("已按规定内容答复。")
    expect(page.get_by_test_id("state")).to_have_text("已查询")
    check_page(page, screenshot_dir, "info-query-entry", phone=True)

    page.get_by_role("link", name="返回登记表").click()
    row = page.get_by_test_id("ledger-row")
    expect(row).to_contain_text("王警官")
    expect(row).to_contain_text("某部队政治部")
    expect(row).to_contain_text("机关、部队政审")
    expect(row).to_contain_text("李秀兰")
    expect(row).to_contain_text("已查询")
    check_page(page, screenshot_dir, "info-queries", phone=True)
