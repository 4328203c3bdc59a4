"""Record-keeping pages in the browser: responsibility agreements (record, signed scan locked, corrected version,
renewal, list filters), revoking a certificate, deregistering and merging person records (and the county
supervisor's unmerge), paging the triage list, and the platform operator's State Council notice import. Each
page passes axe-core and fits a 360 px phone."""

from __future__ import annotations

import io
import json
import uuid
from datetime import date, timedelta
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import Page, expect

from backend.authz.vocabulary import Role
from backend.core.clock import china_today, utc_now
from backend.core.context import SYSTEM_ACTOR, actor_var
from backend.core.crypto import personal_data_cipher
from backend.db.tenancy import set_tenant
from backend.intake.submit import PAYLOAD_CONTEXT
from backend.models import Case, CaseStage, CaseStatus, FlowDirection, IntakeTriage, Person, Sex
from backend.persons.names import name_search_keys
from tests.frontend.e2e.conftest import BackgroundLoop, World
from tests.frontend.e2e.helpers import check_page, sign_in, sign_out

pytestmark = pytest.mark.e2e


def _pdf() -> dict[str, object]:
    output = io.BytesIO()
    Image.new("RGB", (200, 280), "white").save(output, format="PDF")
    return {"name": "责任书签署件.pdf", "mimeType": "application/pdf", "buffer": output.getvalue()}


def _png() -> dict[str, object]:
    output = io.BytesIO()
    Image.new("RGB", (280, 200), (230, 230, 230)).save(output, format="PNG")
    return {"name": "更正扫描.png", "mimeType": "image/png", "buffer": output.getvalue()}


async def _person(
    world: World, name: str, unit: str, resident_id: str | None, *, birth_date: date = date(1990, 3, 7)
) -> Person:
    keys = name_search_keys(name)
    cipher = personal_data_cipher()
    person = Person(
        id=uuid.uuid4(),
        tenant_id=world.county.tenant.id,
        name=name,
        name_pinyin=keys.pinyin,
        name_initials=keys.initials,
        sex=Sex.female,
        ethnicity="汉族",
        birth_date=birth_date,
        org_unit_code=world.county.units[unit],
        flow_direction=FlowDirection.inflow,
        key_subject=False,
        resident_id_ciphertext=cipher.encrypt(resident_id, context="person.resident_id") if resident_id else None,
        resident_id_hash=cipher.lookup_hash(resident_id, context="person.resident_id") if resident_id else None,
    )
    actor_var.set(SYSTEM_ACTOR)
    async with world.database.sessionmaker() as session, session.begin():
        await set_tenant(session, world.county.tenant.id)
        session.add(person)
    return person


def test_officer_records_an_agreement_whose_signed_scan_cannot_be_replaced_then_renews_it(
    page: Page, live_server: str, world: World, background: BackgroundLoop, screenshot_dir: Path
) -> None:
    county = background.run(world.build("协议县"))
    background.run(world.user("zhen.xie", "t1", [(Role.township_officer, "t1")]))
    today = china_today()
    sign_in(page, live_server, county, "zhen.xie")
    page.get_by_role("navigation", name="主菜单").get_by_role("link", name="责任书与协议").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("责任书与协议")
    page.get_by_role("link", name="登记协议").click()

    # Nothing but a title: every missing field is said next to it, the parties too.
    page.locator("#f-title").fill("出租房屋计划生育管理责任书")
    page.get_by_role("button", name="登记", exact=True).click()
    expect(page.locator("#e-kind")).to_be_visible()
    expect(page.locator("#e-signed_on")).to_be_visible()
    expect(page.locator("#e-parties")).to_contain_text("至少填写两方")
    check_page(page, screenshot_dir, "agreement-form")

    page.get_by_label("类型").select_option("responsibility_letter")
    page.get_by_label("所用范本").fill("县标准责任书2026版")
    page.get_by_label("所属单位").select_option(county.units["v11"])
    page.get_by_label("签订日期").fill((today - timedelta(days=300)).isoformat())
    page.get_by_label("有效期起").fill((today - timedelta(days=300)).isoformat())
    page.get_by_label("有效期止").fill((today + timedelta(days=20)).isoformat())
    page.get_by_label("第1方 · 角色").fill("乡镇（街道）")
    page.get_by_label("第1方 · 名称").fill("一镇计生办")
    page.get_by_label("第2方 · 角色").fill("房东")
    page.get_by_label("第2方 · 名称").fill("王房东")
    page.get_by_role("button", name="登记", exact=True).click()
    expect(page.get_by_role("status")).to_have_text("协议已登记，请上传签署件。")
    expect(page.locator("section", has=page.locator("#parties-title"))).to_contain_text("房东 · 王房东")
    agreement_url = page.url.split("?")[0]

    # A colleague attaches the signed scan from another window while this page still offers the upload.
    other = page.context.new_page()
    other.goto(agreement_url)
    other.get_by_label("签署件（PDF、JPEG、PNG、TIFF）").set_input_files(_pdf())  # type: ignore[arg-type]
    other.get_by_role("button", name="上传签署件").click()
    expect(other.get_by_role("status")).to_have_text("签署件已上传并锁定。")
    other.close()
    page.get_by_label("签署件（PDF、JPEG、PNG、TIFF）").set_input_files(_png())  # type: ignore[arg-type]
    page.get_by_role("button", name="上传签署件").click()
    expect(page.locator("#scan-locked")).to_contain_text("不能替换或删除")
    expect(page.locator("ul.documents li")).to_have_count(1)  # the first scan stays, unchanged

    # A corrected scan is a new version; the signed original stays.
    page.get_by_label("更正后的签署件").set_input_files(_png())  # type: ignore[arg-type]
    page.get_by_role("button", name="上传新版本").click()
    expect(page.get_by_role("status")).to_have_text("已上传签署件的新版本，原版本保留。")
    expect(page.locator("ul.documents li")).to_have_count(2)
    expect(page.locator("ul.documents")).to_contain_text("旧版本")
    expect(page.locator("ul.documents img").first).to_have_js_property("complete", True)
    check_page(page, screenshot_dir, "agreement")

    page.get_by_role("link", name="返回协议列表").click()
    page.get_by_label("到期").select_option("30")
    page.get_by_role("button", name="查询").click()
    expect(page.locator("table")).to_contain_text("出租房屋计划生育管理责任书")
    check_page(page, screenshot_dir, "agreements", phone=True)
    page.get_by_role("link", name="出租房屋计划生育管理责任书").click()

    # Renewal: refused without its dates, then a new agreement linked to this one.
    page.get_by_role("button", name="续签").click()
    expect(page.locator("#e-renew_signed_on")).to_be_visible()
    page.get_by_label("续签日期").fill(today.isoformat())
    page.get_by_label("新有效期起").fill((today + timedelta(days=21)).isoformat())
    page.get_by_label("新有效期止").fill((today + timedelta(days=21 + 365)).isoformat())
    page.get_by_role("button", name="续签").click()
    expect(page.get_by_role("status")).to_have_text("已续签，这是新的协议，请上传其签署件。")
    expect(page.locator("dl.facts")).to_contain_text("续签自")
    page.get_by_role("link", name="出租房屋计划生育管理责任书（").click()
    expect(page.locator("section", has=page.locator("#renewals-title")).get_by_role("link")).to_have_count(1)

    # Renewed: no longer on the "expiring within 30 days" list.
    page.goto(f"{live_server}/agreements?expiring=30")
    expect(page.locator("table")).to_contain_text("暂无记录")


def test_officer_revokes_a_certificate_with_a_reason(
    page: Page, live_server: str, world: World, background: BackgroundLoop, screenshot_dir: Path
) -> None:
    county = background.run(world.build("注销证明县"))
    background.run(world.user("zhen.zhu", "t1", [(Role.township_officer, "t1")]))
    background.run(_person(world, "朱丽", "v11", "110105199205010044"))
    sign_in(page, live_server, county, "zhen.zhu")
    page.get_by_role("navigation", name="主菜单").get_by_role("link", name="人员").click()
    page.get_by_role("link", name="朱丽").click()
    page.get_by_label("证明编号").fill("ZX-2026-000777")
    page.get_by_label("发证日期").fill(china_today().isoformat())
    page.get_by_label("发证单位区划代码").fill(county.units["t1"])
    page.get_by_role("button", name="办理", exact=True).click()
    expect(page.get_by_role("status")).to_have_text("婚育证明已办理。")

    page.get_by_role("button", name="注销", exact=True).click()
    expect(page.locator("#e-revoke-reason")).to_contain_text("请写明注销理由")
    expect(page.locator("#e-revoke-confirm")).to_contain_text("请勾选确认注销")
    check_page(page, screenshot_dir, "certificate-revoke")
    page.get_by_label("注销理由").fill("编号登记错误，已另行办理")
    page.get_by_label("确认注销这份婚育证明").check()
    page.get_by_role("button", name="注销", exact=True).click()
    expect(page.get_by_role("status")).to_have_text("婚育证明已注销。")
    expect(page.locator("dl.facts")).to_contain_text("已注销")
    expect(page.get_by_role("button", name="注销", exact=True)).to_have_count(0)
    check_page(page)


def test_officer_merges_a_duplicate_and_deregisters_a_person_and_a_county_supervisor_undoes_the_merge(
    page: Page, live_server: str, world: World, background: BackgroundLoop, screenshot_dir: Path
) -> None:
    county = background.run(world.build("合并县"))
    background.run(world.user("zhen.he2", "t1", [(Role.township_officer, "t1")]))
    background.run(world.user("xian.fu", "county", [(Role.county_supervisor, "county")]))
    kept = background.run(_person(world, "韩梅", "v11", "330106199003070056"))
    duplicate = background.run(_person(world, "韩梅", "v12", None))  # the same woman, entered again without ID
    leaving = background.run(_person(world, "宋琳", "v11", "330106199104050028", birth_date=date(1991, 4, 5)))

    sign_in(page, live_server, county, "zhen.he2")
    page.goto(f"{live_server}/persons/{duplicate.id}")
    page.get_by_role("button", name="合并到所选记录").click()
    expect(page.locator("#e-merge_into_id")).to_contain_text("请选择要保留的记录")
    expect(page.locator("#e-merge_reason")).to_be_visible()
    expect(page.locator("#e-merge_confirm")).to_be_visible()
    check_page(page, screenshot_dir, "person-merge")
    page.get_by_role("radio").first.check()  # the one candidate: the record with the ID number
    page.get_by_label("合并理由").fill("同一人重复登记")
    page.get_by_label("确认本记录与所选记录是同一人").check()
    page.get_by_role("button", name="合并到所选记录").click()
    expect(page.get_by_role("status")).to_have_text("重复记录已合并到本记录。")
    assert page.url.startswith(f"{live_server}/persons/{kept.id}")
    page.goto(f"{live_server}/persons/{duplicate.id}")
    expect(page.get_by_test_id("person-status")).to_contain_text("已合并")
    expect(page.get_by_role("heading", name="撤销合并")).to_have_count(0)  # a township officer cannot undo it

    page.goto(f"{live_server}/persons/{leaving.id}")
    page.get_by_label("离开日期").fill((china_today() + timedelta(days=3)).isoformat())
    page.get_by_label("注销理由").fill("返回户籍地")
    page.get_by_label("确认注销此人").check()
    page.get_by_role("button", name="注销登记").click()
    expect(page.locator("#e-depart_departed_on")).to_contain_text("日期不能在将来")  # the input policy: past only
    page.get_by_label("离开日期").fill(china_today().isoformat())
    page.get_by_label("确认注销此人").check()
    page.get_by_role("button", name="注销登记").click()
    expect(page.get_by_role("status")).to_have_text("已注销，记录保留在台账中。")
    expect(page.get_by_test_id("person-status")).to_have_text("已注销")
    check_page(page, screenshot_dir, "person-departed")
    sign_out(page)

    sign_in(page, live_server, county, "xian.fu")
    page.goto(f"{live_server}/persons/{duplicate.id}")
    page.get_by_role("button", name="撤销合并").click()
    expect(page.locator("#e-unmerge_reason")).to_be_visible()
    page.get_by_label("撤销理由").fill("出生日期核实不同，不是同一人")
    page.get_by_label("确认撤销这次合并").check()
    page.get_by_role("button", name="撤销合并").click()
    expect(page.get_by_role("status")).to_have_text("已撤销合并，本记录恢复原状态。")
    expect(page.get_by_test_id("person-status")).to_have_text("在册")
    check_page(page)


async def _triage_cases(world: World, count: int) -> None:
    """`count` police notifications waiting in the township's triage list, as the router leaves them."""
    cipher = personal_data_cipher()
    payload = {"person": {"name": "待核实", "resident_id": "330106199003070023"}, "issuing_office": "城关派出所"}
    ciphertext = cipher.encrypt(json.dumps(payload, ensure_ascii=False), context=PAYLOAD_CONTEXT)
    actor_var.set(SYSTEM_ACTOR)
    async with world.database.sessionmaker() as session, session.begin():
        await set_tenant(session, world.county.tenant.id)
        now = utc_now()
        for index in range(count):
            case = Case(
                id=uuid.uuid4(),
                tenant_id=world.county.tenant.id,
                number=f"{world.county.code}-2026-{900000 + index:06d}",
                case_type="department_notification",
                title=f"部门通报 {index + 1}",
                org_unit_code=world.county.units["t1"],
                stage=CaseStage.registration,
                status=CaseStatus.open,
                subject_name="待核实",
                subject_pinyin=name_search_keys("待核实").pinyin,
                received_at=now,
                stage_started_at=now,
                due_at=now + timedelta(days=10),
                details={},
                created_by="test",
            )
            session.add(case)
            await session.flush()
            session.add(
                IntakeTriage(
                    id=uuid.uuid4(),
                    tenant_id=world.county.tenant.id,
                    notification_id=uuid.uuid4(),
                    case_id=case.id,
                    notification_type="residence_registered",
                    department="police",
                    payload_encrypted=ciphertext,
                    matches={},
                    created_at=now - timedelta(minutes=index),
                )
            )


def test_the_triage_list_pages_beyond_fifty_and_keeps_its_range(
    page: Page, live_server: str, world: World, background: BackgroundLoop
) -> None:
    county = background.run(world.build("通报分页县"))
    background.run(world.user("zhen.tong", "t1", [(Role.township_officer, "t1")]))
    background.run(_triage_cases(world, 53))
    sign_in(page, live_server, county, "zhen.tong")
    page.goto(f"{live_server}/triage?show=all")
    expect(page.get_by_test_id("triage-item")).to_have_count(50)
    expect(page.locator("main")).to_contain_text("共 53 条")
    page.get_by_role("navigation", name="分页").get_by_role("link", name="下一页").click()
    expect(page.get_by_test_id("triage-item")).to_have_count(3)
    assert "show=all" in page.url and "page=2" in page.url
    # A decision on page 2 comes back to page 2 of the same range.
    page.get_by_test_id("triage-item").first.get_by_role("button", name="退回").click()
    expect(page.locator(".field-error")).to_contain_text("退回须写明理由")
    expect(page.get_by_test_id("triage-item")).to_have_count(3)
    page.get_by_test_id("triage-item").first.get_by_role("button", name="核实无误").click()
    expect(page.get_by_role("status")).to_have_text("已核实。")
    assert "show=all" in page.url and "page=2" in page.url
    check_page(page)


def _notice(year: int) -> tuple[str, date]:
    """A notice for `year`: a three-day holiday from the first Friday of October and a make-up Sunday."""
    first_friday = next(date(year, 10, day) for day in range(1, 8) if date(year, 10, day).weekday() == 4)
    makeup = next(date(year, 9, day) for day in range(30, 20, -1) if date(year, 9, day).weekday() in (5, 6))
    source = f"国办发明电〔{year - 1}〕9号"
    rows = [f"{first_friday + timedelta(days=offset)},public_holiday,国庆节,{source}" for offset in range(3)]
    return "date,kind,name,source\n" + "\n".join([*rows, f"{makeup},makeup_workday,国庆节,{source}"]) + "\n", makeup


def test_platform_operator_previews_and_imports_a_state_council_notice(
    page: Page, live_server: str, world: World, screenshot_dir: Path
) -> None:
    page.goto(f"{live_server}/platform/calendar")
    expect(page.get_by_role("heading", level=1)).to_have_text("平台管理员登录")  # sent to sign in first
    page.get_by_label("平台令牌").fill("not-the-token")
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("alert")).to_contain_text("平台令牌不正确")
    page.get_by_label("平台令牌").fill(world.settings.platform_admin_token)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("国务院放假安排")

    year = 2090 + uuid.uuid4().int % 9
    text, makeup = _notice(year)
    # A make-up workday on a weekday is refused, with its row, before anything is written.
    wrong = text.replace(makeup.isoformat(), (makeup - timedelta(days=makeup.weekday() - 1)).isoformat())
    page.get_by_label("通知内容").fill(wrong)
    page.get_by_role("button", name="预览").click()
    expect(page.locator("#notice-errors")).to_contain_text("第5行")
    check_page(page, screenshot_dir, "platform-calendar-error")

    page.get_by_label("通知内容").fill(text)
    page.get_by_role("button", name="预览").click()
    expect(page.get_by_role("heading", name=f"预览：{year}年")).to_be_visible()
    expect(page.locator("table")).to_contain_text("调休上班")
    check_page(page, screenshot_dir, "platform-calendar", phone=True)
    replace = page.get_by_label("替换已发布的安排")
    if replace.count():  # a rerun on the same database: the year is published already
        replace.check()
    page.get_by_role("button", name="确认导入").click()
    expect(page.get_by_role("status")).to_contain_text(f"{year}年放假安排：放假 3 天，调休上班 1 天")
    expect(page.locator("main")).to_contain_text(str(year))
    page.get_by_role("button", name="退出").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("平台管理员登录")
