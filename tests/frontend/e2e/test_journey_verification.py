"""Journey 2 of issue #9, one test from sign-in to result: a township officer of county A takes a first-child
registration, sends a cross-county verification request from the case page, a township officer of county B
answers it from her inbox, and A registers the case (through the real case workflow) and issues the
certificate, whose PDF link serves a PDF. Every page passes axe-core and fits a 360 px phone."""

from __future__ import annotations

import asyncio
import re
import uuid
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import Page, expect
from sqlalchemy import select
from temporalio.client import Client

from backend.authz.vocabulary import Role
from backend.core.crypto import personal_data_cipher
from backend.core.outbox import OutboxRelay
from backend.db.tenancy import set_tenant
from backend.models import Case, CaseSubject, FlowDirection, Person, Sex
from backend.persons.names import name_search_keys
from tests.fixtures.identity import County
from tests.frontend.e2e.conftest import BackgroundLoop, World
from tests.frontend.e2e.helpers import check_page, sign_in, sign_out
from tests.frontend.e2e.test_journeys import _plan_loaded, _start_worker, _workflow_input
from workflows.cases.types import case_workflow_id
from workflows.cases.workflows import CaseWorkflow
from workflows.client import connect
from workflows.outbox_handlers import case_handlers
from workflows.worker import build_case_worker

pytestmark = pytest.mark.e2e

RESIDENT_ID = "330106199003070022"


async def _add_subject(world: World, county: County, case: Case, registration_township: str) -> Person:
    """The applicant: living in county A, household registration in a township of county B."""
    keys = name_search_keys("吴晓燕")
    cipher = personal_data_cipher()
    person = Person(
        id=uuid.uuid4(),
        tenant_id=county.tenant.id,
        name="吴晓燕",
        name_pinyin=keys.pinyin,
        name_initials=keys.initials,
        sex=Sex.female,
        ethnicity="汉族",
        org_unit_code=county.units["v11"],
        flow_direction=FlowDirection.inflow,
        key_subject=False,
        registration_division_code=registration_township,
        resident_id_ciphertext=cipher.encrypt(RESIDENT_ID, context="person.resident_id"),
        resident_id_hash=cipher.lookup_hash(RESIDENT_ID, context="person.resident_id"),
    )
    async with world.database.sessionmaker() as session, session.begin():
        await set_tenant(session, county.tenant.id)
        session.add(person)
        await session.flush()
        session.add(CaseSubject(id=uuid.uuid4(), tenant_id=county.tenant.id, case_id=case.id, person_id=person.id))
    return person


def _scan(directory: Path) -> Path:
    path = directory / "结婚证.png"
    Image.new("RGB", (320, 200), (200, 40, 40)).save(path, format="PNG")
    return path


def _not_a_scan(directory: Path) -> Path:
    path = directory / "结婚证.png.txt"
    path.write_text("这不是扫描件", encoding="utf-8")
    return path


async def _drain(relay: OutboxRelay, county: County) -> None:
    while await relay._process_one(county.tenant.id):
        pass


async def _stage(world: World, county: County, case_id: uuid.UUID, stage: str) -> None:
    """Wait until the workflow's activity has moved the case row to `stage`."""
    for _ in range(300):
        async with world.database.sessionmaker() as session, session.begin():
            await set_tenant(session, county.tenant.id)
            current = (await session.execute(select(Case.stage).where(Case.id == case_id))).scalar_one()
        if current == stage:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"the case never reached {stage}")


def test_journey_2_cross_county_verification_then_registration_and_the_certificate_pdf(
    page: Page, live_server: str, world: World, background: BackgroundLoop, screenshot_dir: Path, tmp_path: Path
) -> None:
    county_a = background.run(world.build("甲县"))
    background.run(world.user("jia.officer", "t1", [(Role.township_officer, "t1")]))
    world_b = World(world.settings, world.database)
    county_b = background.run(world_b.build("乙县"))
    background.run(world_b.user("yi.officer", "t1", [(Role.township_officer, "t1")]))

    case = background.run(
        world.case("吴晓燕", "v11", assignee="jia.officer", due_in=None, case_type="first_child_registration")
    )
    background.run(_add_subject(world, county_a, case, county_b.units["t1"]))

    # The case runs on the Temporal server the app reads histories from; the officer's actions reach it through
    # the outbox relay (only the case actions: the verification timers are not this journey's subject).
    client: Client = background.run(connect(world.settings))
    worker = build_case_worker(client, world.database, task_queue=f"cases-{uuid.uuid4()}")
    relay = OutboxRelay(world.database, {"case.act": case_handlers(client)["case.act"]})
    background.run(_start_worker(worker))
    try:
        handle = background.run(
            client.start_workflow(
                CaseWorkflow.run,
                _workflow_input(county_a, case),
                id=case_workflow_id(county_a.code, case.id),
                task_queue=worker.task_queue,
            )
        )
        background.run(_plan_loaded(handle))

        # A: the registration from her queue, then a verification request to B's township.
        sign_in(page, live_server, county_a, "jia.officer")
        page.get_by_role("link", name=re.compile("我的待办")).click()
        page.get_by_role("link", name=case.number).click()
        expect(page.get_by_role("heading", level=1)).to_have_text(f"案件 {case.number}")
        expect(page.locator("#verification-title")).to_have_text("跨县协查")
        # Nothing to issue before the case is registered.
        expect(page.get_by_role("button", name="签发一孩生育服务登记证明")).to_have_count(0)
        # The scan of her marriage certificate: a text file posing as one is refused next to the field.
        page.get_by_label("材料类型").select_option("marriage_certificate")
        page.get_by_label("文件（PDF、JPEG、PNG、TIFF）").set_input_files(_not_a_scan(tmp_path))
        page.get_by_role("button", name="上传").click()
        expect(page.locator("#e-document_file")).to_be_visible()
        page.get_by_label("材料类型").select_option("marriage_certificate")
        page.get_by_label("文件（PDF、JPEG、PNG、TIFF）").set_input_files(_scan(tmp_path))
        page.get_by_role("button", name="上传").click()
        expect(page.get_by_role("status")).to_have_text("材料已上传。")
        expect(page.get_by_role("link", name="结婚证.png")).to_be_visible()
        preview = page.get_by_role("img", name="预览：结婚证.png")
        expect(preview).to_be_visible()
        # The preview was served and decoded: an image that failed to load has no natural width.
        page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=preview.element_handle())
        page.get_by_label("协查内容").fill("请核实吴晓燕的婚育情况及是否已生育子女。")
        page.get_by_role("button", name="发出协查").click()
        expect(page.get_by_role("status")).to_have_text("协查请求已发出。")
        panel = page.locator("section", has=page.locator("#verification-title"))
        expect(panel.get_by_test_id("verification-state")).to_have_text("待反馈")
        expect(panel.get_by_test_id("verification-responder")).to_contain_text(f"（{county_b.code}）")  # to county B
        check_page(page, screenshot_dir, "case-verification", phone=True)
        # Sending the same request twice is refused in words, not a second request.
        page.get_by_label("协查内容").fill("再次请求核实。")
        page.get_by_role("button", name="发出协查").click()
        expect(page.get_by_role("alert").first).to_be_visible()
        expect(panel.get_by_test_id("verification-state")).to_have_count(1)
        page.get_by_label("操作").select_option("advance")
        page.get_by_role("button", name="提交").click()
        expect(page.get_by_role("status").first).to_contain_text("操作已提交")
        background.run(_drain(relay, county_a))
        background.run(_stage(world, county_a, case.id, "verification"))
        page.goto(f"{live_server}/verification/outbox")
        expect(page.locator("table")).to_contain_text("吴晓燕")
        check_page(page, screenshot_dir, "verification-outbox")
        sign_out(page)

        # B: the request in her inbox; an empty answer is refused next to the field, then she answers.
        sign_in(page, live_server, county_b, "yi.officer")
        page.get_by_role("navigation", name="主菜单").get_by_role("link", name="协查").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("协查收件箱")
        item = page.get_by_test_id("inbox-item")
        expect(item).to_have_count(1)
        expect(item).to_contain_text("吴晓燕")
        expect(item).to_contain_text(RESIDENT_ID)
        expect(item).not_to_contain_text(case.number)  # B never sees A's case
        item.get_by_role("button", name="反馈").click()
        expect(page.locator("p.field-error")).to_contain_text("请填写反馈内容")
        check_page(page, screenshot_dir, "verification-inbox", phone=True)
        page.get_by_test_id("inbox-item").get_by_label("反馈内容").fill("经核实，吴晓燕已婚，未生育子女。")
        page.get_by_test_id("inbox-item").get_by_role("button", name="反馈").click()
        expect(page.get_by_role("status")).to_have_text("已反馈。")
        expect(page.get_by_test_id("inbox-item")).to_have_count(0)  # no longer pending
        check_page(page)
        sign_out(page)

        # A: the answer on the case; she registers it and issues the certificate.
        sign_in(page, live_server, county_a, "jia.officer")
        page.goto(f"{live_server}/cases/{case.id}")
        panel = page.locator("section", has=page.locator("#verification-title"))
        expect(panel.get_by_test_id("verification-state")).to_contain_text("已反馈：经核实，吴晓燕已婚，未生育子女。")
        page.get_by_label("操作").select_option("close")
        page.get_by_label("办结结果").select_option("registered")
        page.get_by_role("button", name="提交").click()
        expect(page.get_by_role("status").first).to_contain_text("操作已提交")
        background.run(_drain(relay, county_a))
        background.run(handle.result())
    finally:
        background.run(worker.shutdown())

    page.goto(f"{live_server}/cases/{case.id}")
    expect(page.locator(".countdown")).to_have_text("已办结")
    page.get_by_role("button", name="签发一孩生育服务登记证明").click()
    expect(page.get_by_role("status")).to_have_text("文书已签发。")
    issued = page.get_by_test_id("issued-documents")
    expect(issued).to_contain_text("一孩生育服务登记证明")
    expect(issued).to_contain_text(f"{county_a.code}-")
    check_page(page, screenshot_dir, "case-documents")
    href = issued.get_by_role("link", name="下载 PDF").get_attribute("href")
    assert href is not None
    response = page.request.get(live_server + href)
    assert response.ok, response.status
    assert response.body().startswith(b"%PDF"), response.body()[:20]
