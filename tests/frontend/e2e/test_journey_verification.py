"""Journey 2 of issue #9, one test from sign-in to result: a township officer of county A takes a first-child
registration (she opens the case from the wife's person page, the husband as spouse by ID number), sends a
cross-county verification request from the case page, a township officer of county B answers it from her inbox,
and A registers the case (through the real case workflow) and issues the certificate, whose PDF link serves a
PDF. Every page passes axe-core and fits a 360 px phone."""

from __future__ import annotations

import asyncio
import re
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from playwright.sync_api import Page, expect
from sqlalchemy import select
from temporalio.client import Client

from backend.authz.vocabulary import Role
from backend.core.clock import CHINA as CHINA_STANDARD_TIME
from backend.core.clock import utc_now
from backend.core.crypto import personal_data_cipher
from backend.core.outbox import StartCase
from backend.core.temporal import connect
from backend.db.tenancy import set_tenant
from backend.models import (
    Case,
    Channel,
    FlowDirection,
    Person,
    QuestionType,
    Sex,
    VerificationKind,
    VerificationRequest,
    VerificationState,
)
from backend.persons.names import name_search_keys
from tests.fixtures.identity import County
from tests.frontend.e2e.conftest import BackgroundLoop, World
from tests.frontend.e2e.helpers import check_page, sign_in, sign_out
from tests.frontend.e2e.test_journeys import _plan_loaded, _start_worker
from workflows.cases.types import CaseWorkflowInput, case_workflow_id
from workflows.cases.workflows import CaseWorkflow
from workflows.outbox import Handler, OutboxRelay
from workflows.outbox_handlers import case_handlers
from workflows.worker import build_case_worker

pytestmark = pytest.mark.e2e

RESIDENT_ID = "330106199003070022"
SPOUSE_RESIDENT_ID = "330106198805120031"


async def _add_person(
    world: World,
    county: County,
    registration_township: str,
    *,
    name: str = "吴晓燕",
    resident_id: str = RESIDENT_ID,
    sex: Sex = Sex.female,
) -> Person:
    """A registered person: living in county A, household registration in a township of county B."""
    keys = name_search_keys(name)
    cipher = personal_data_cipher()
    person = Person(
        id=uuid.uuid4(),
        tenant_id=county.tenant.id,
        name=name,
        name_pinyin=keys.pinyin,
        name_initials=keys.initials,
        sex=sex,
        ethnicity="汉族",
        org_unit_code=county.units["v11"],
        flow_direction=FlowDirection.inflow,
        key_subject=False,
        registration_division_code=registration_township,
        resident_id_ciphertext=cipher.encrypt(resident_id, context="person.resident_id"),
        resident_id_hash=cipher.lookup_hash(resident_id, context="person.resident_id"),
    )
    async with world.database.sessionmaker() as session, session.begin():
        await set_tenant(session, county.tenant.id)
        session.add(person)
    return person


def _start_on(client: Client, task_queue: str) -> Handler:
    """The relay's "case.start" handler as in production, on this test's task queue."""

    async def start_case(payload: StartCase) -> dict[str, Any]:
        workflow_input = CaseWorkflowInput.model_validate(payload.model_dump())
        handle = await client.start_workflow(
            CaseWorkflow.run,
            workflow_input,
            id=case_workflow_id(workflow_input.tenant_code, workflow_input.case_id),
            task_queue=task_queue,
        )
        return {"workflow_id": handle.id}

    return start_case


def _scan(directory: Path) -> Path:
    path = directory / "结婚证.png"
    Image.new("RGB", (320, 200), (200, 40, 40)).save(path, format="PNG")
    return path


def _not_a_scan(directory: Path) -> Path:
    path = directory / "结婚证.png.txt"
    path.write_text("这不是扫描件", encoding="utf-8")
    return path


async def _drain(relay: OutboxRelay, county: County) -> None:
    while await relay.process_county(county.tenant.id):
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

    background.run(_add_person(world, county_a, county_b.units["t1"]))
    background.run(
        _add_person(world, county_a, county_b.units["t1"], name="张伟", resident_id=SPOUSE_RESIDENT_ID, sex=Sex.male)
    )

    # The case runs on the Temporal server the app reads histories from; opening it writes an outbox row that
    # the relay turns into the workflow's start, and the officer's actions reach it the same way (only the case
    # messages: the verification timers are not this journey's subject).
    client: Client = background.run(connect(world.settings))
    worker = build_case_worker(client, world.database, task_queue=f"cases-{uuid.uuid4()}")
    relay = OutboxRelay(
        world.database,
        {"case.start": _start_on(client, worker.task_queue), "case.act": case_handlers(client)["case.act"]},
    )
    background.run(_start_worker(worker))
    try:
        # A: she takes the registration from the wife's person page.
        sign_in(page, live_server, county_a, "jia.officer")
        page.get_by_role("navigation", name="主菜单").get_by_role("link", name="人员").click()
        page.get_by_role("link", name="吴晓燕").click()
        page.get_by_role("link", name="为此人办理").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("开案")
        expect(page.get_by_test_id("applicant")).to_contain_text("吴晓燕")
        expect(page.get_by_label("办理单位")).to_have_value(county_a.units["v11"])  # her unit by default
        page.get_by_label("案件类型").select_option("first_child_registration")
        page.get_by_label("配偶身份证号码（可选）").fill(SPOUSE_RESIDENT_ID)
        check_page(page, screenshot_dir, "case-open", phone=True)
        # A letter without its signed-for date is refused next to the field, and no case is opened.
        page.get_by_label("到达方式").select_option("registered_mail")
        page.get_by_role("button", name="开案").click()
        expect(page.locator("#e-arrival_at")).to_contain_text("签收日期")
        expect(page.get_by_label("案件类型")).to_have_value("first_child_registration")  # her input is kept
        page.get_by_label("到达方式").select_option("in_person")
        page.get_by_role("button", name="开案").click()
        expect(page.get_by_role("status").first).to_have_text("已开案，流程启动后开始计时。")
        heading = page.get_by_role("heading", level=1)
        expect(heading).to_have_text(re.compile(rf"^案件 {county_a.code}-"))
        case_number = heading.inner_text().removeprefix("案件 ").strip()
        case_id = uuid.UUID(page.url.split("/cases/")[1].split("?")[0])
        expect(page.locator("section", has=page.locator("#people-title"))).to_contain_text("张伟")
        background.run(_drain(relay, county_a))
        handle = client.get_workflow_handle(case_workflow_id(county_a.code, case_id))
        background.run(_plan_loaded(handle))
        page.get_by_role("button", name="领取本案").click()

        # A: the case is hers; a verification request to B's township.
        expect(page.get_by_role("heading", level=1)).to_have_text(f"案件 {case_number}")
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
        page.get_by_label("协查对象（发往其户籍地乡镇）").select_option(label="吴晓燕")
        page.get_by_label("协查内容").fill("请核实吴晓燕的婚育情况及是否已生育子女。")
        page.get_by_role("button", name="发出协查").click()
        expect(page.get_by_role("status")).to_have_text("协查请求已发出。")
        panel = page.locator("section", has=page.locator("#verification-title"))
        expect(panel.get_by_test_id("verification-state")).to_have_text("待反馈")
        # To county B: the county (by name where known, else its code) and the township by name.
        expect(panel.get_by_test_id("verification-responder")).to_have_text(f"{county_b.code}一镇")
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
        background.run(_stage(world, county_a, case_id, "verification"))
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
        expect(item).not_to_contain_text(case_number)  # B never sees A's case
        item.locator("summary").click()  # the row's actions fold open
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
        page.goto(f"{live_server}/cases/{case_id}")
        panel = page.locator("section", has=page.locator("#verification-title"))
        expect(panel.get_by_test_id("verification-state")).to_contain_text("已反馈：经核实，吴晓燕已婚，未生育子女。")
        # Registered only once the registration township is notified (P04): refused in words before the notice.
        page.get_by_label("操作").select_option("close")
        page.get_by_label("办结结果").select_option("registered")
        page.get_by_role("button", name="提交").click()
        expect(page.get_by_role("alert").first).to_contain_text("以下配偶的户籍地尚未通报：吴晓燕、张伟")
        page.get_by_label("协查对象（发往其户籍地乡镇）").select_option(label="吴晓燕")
        page.get_by_label("协查事项").select_option("first_child_registration")
        page.get_by_label("协查内容").fill("吴晓燕、张伟已办理一孩生育服务登记。")
        page.get_by_role("button", name="发出协查").click()
        expect(page.get_by_role("status")).to_have_text("通报已发出。")
        page.get_by_label("操作").select_option("close")
        page.get_by_label("办结结果").select_option("registered")
        page.get_by_role("button", name="提交").click()
        expect(page.get_by_role("status").first).to_contain_text("操作已提交")
        background.run(_drain(relay, county_a))
        background.run(handle.result())
    finally:
        background.run(worker.shutdown())

    page.goto(f"{live_server}/cases/{case_id}")
    expect(page.locator(".countdown")).to_have_text("已办结")
    expect(page.get_by_test_id("notify-clock")).to_contain_text("已通报")  # the P04 notify clock, kept
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


async def _outgoing(world: World, county: County, subject: str, *, off_platform: bool, other: County) -> None:
    """A pending request B's township t1 sent (no case needed for the outbox page): to an off-platform township
    (by registered mail) or to `other`'s township t1 on the platform."""
    request_id, now = uuid.uuid4(), utc_now() - timedelta(days=1)
    async with world.database.sessionmaker() as session, session.begin():
        await set_tenant(session, county.tenant.id)
        session.add(
            VerificationRequest(
                id=request_id,
                tenant_id=county.tenant.id,
                kind=VerificationKind.request,
                correlation_id=f"XC-{county.code}-E-{request_id.hex[:10].upper()}",
                state=VerificationState.pending,
                requester_county_code=county.code,
                requester_unit_code=county.units["t1"],
                requester_unit_name="一镇",
                responder_tenant_id=None if off_platform else other.tenant.id,
                responder_county_code="650102" if off_platform else other.code,
                responder_unit_code="650102001" if off_platform else other.units["t1"],
                subject_name=subject,
                question_type=QuestionType.marital_childbearing,
                question="请核实婚育情况",
                attachment_document_ids=[],
                channel=Channel.registered_mail if off_platform else Channel.platform,
                evidence="挂号信回执" if off_platform else None,
                materials_received_at=now,
                send_due_at=now + timedelta(days=9),
                sent_at=now,
                sent_on_time=True,
                arrived_at=now,
                answer_due_at=now + timedelta(days=21),
                expires_at=now + timedelta(days=35),
                created_by="e2e",
            )
        )


def test_journey_2b_incoming_letter_from_an_off_platform_county_claim_answer_withdraw_and_record(
    page: Page, live_server: str, world: World, background: BackgroundLoop, screenshot_dir: Path, tmp_path: Path
) -> None:
    """B's township officer records a request that came by registered mail from a county not on the platform
    (with the scan of the letter), claims it and answers it by fax; in her outbox she withdraws a request and
    records the answer an off-platform county phoned in."""
    county_a = background.run(world.build("甲县"))
    world_b = World(world.settings, world.database)
    county_b = background.run(world_b.build("乙县"))
    background.run(world_b.user("yi.officer", "t1", [(Role.township_officer, "t1")]))
    background.run(_outgoing(world, county_b, "周敏", off_platform=False, other=county_a))
    background.run(_outgoing(world, county_b, "郑红", off_platform=True, other=county_a))
    signed_for = (utc_now() - timedelta(days=3)).astimezone(CHINA_STANDARD_TIME).strftime("%Y-%m-%dT10:00")
    replied = (utc_now() - timedelta(hours=2)).astimezone(CHINA_STANDARD_TIME).strftime("%Y-%m-%dT%H:%M")

    sign_in(page, live_server, county_b, "yi.officer")
    page.get_by_role("navigation", name="主菜单").get_by_role("link", name="协查").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("协查收件箱")
    page.get_by_text("登记来函协查（对方未上平台）").click()
    form = page.locator("#incoming")
    form.locator("#f-requester_unit_name").fill("天山区某街道计生办")
    form.get_by_label("来函单位区划代码（已知时填写）").fill("650102001")
    form.get_by_label("来函文号").fill("天计生函〔2026〕12号")
    form.get_by_label("协查对象姓名").fill("马丽")
    form.get_by_label("协查内容").fill("请核实马丽的婚育情况。")
    form.get_by_label("来函方式").select_option("registered_mail")
    form.get_by_label("送达时间（签收日期、传真接收时间、通话时间或收文日期）").fill(signed_for)
    form.get_by_label("凭证说明（挂号号码、通话记录页码等）").fill("挂号信 XA123456789CN")
    # A letter without its scan is refused next to the field, her input kept.
    form.get_by_role("button", name="登记来函").click()
    expect(page.locator("#e-evidence_file")).to_contain_text("扫描件")
    expect(page.locator("#incoming").get_by_label("协查对象姓名")).to_have_value("马丽")
    page.locator("#incoming").get_by_label("凭证扫描件（信函、传真必传）").set_input_files(_scan(tmp_path))
    page.locator("#incoming").get_by_role("button", name="登记来函").click()
    expect(page.get_by_role("status")).to_have_text("来函协查已登记，反馈期限自送达之日起计算。")
    item = page.get_by_test_id("inbox-item")
    expect(item).to_have_count(1)
    expect(item).to_contain_text("马丽")
    expect(item).to_contain_text("未上平台")
    expect(item).to_contain_text("挂号信")
    check_page(page, screenshot_dir, "verification-incoming", phone=True)

    # She claims it.
    item.locator("summary").click()  # the row's actions fold open
    item.get_by_role("button", name="认领").click()
    expect(page.get_by_role("status")).to_have_text("已认领，由您办理。")
    expect(page.get_by_test_id("inbox-item")).to_contain_text("我")
    expect(page.get_by_test_id("inbox-item").get_by_role("button", name="认领")).to_have_count(0)

    # She answers by fax: the reply's channel, time and evidence are recorded.
    item = page.get_by_test_id("inbox-item")
    item.locator("summary").click()
    item.get_by_label("反馈内容").fill("经核实，马丽初婚，未生育。")
    answer_form = item.locator("form", has=page.get_by_role("button", name="反馈", exact=True))
    answer_form.get_by_label("回复渠道").select_option("fax")
    answer_form.get_by_label("发出时间（邮寄日期、传真发送时间或通话时间）").fill(replied)
    answer_form.get_by_label("回复凭证（挂号号码、传真报告或通话记录）").fill("传真发送报告")
    answer_form.get_by_role("button", name="反馈", exact=True).click()
    expect(page.get_by_role("status")).to_have_text("已反馈。")
    expect(page.get_by_test_id("inbox-item")).to_have_count(0)
    page.get_by_label("状态").select_option("answered")
    page.get_by_role("button", name="查询").click()
    expect(page.get_by_test_id("inbox-item")).to_contain_text("经核实，马丽初婚，未生育。（传真）")
    check_page(page)

    # Her outbox: withdraw one request, record the phoned-in answer of the off-platform county.
    page.goto(f"{live_server}/verification/outbox")
    row = page.get_by_test_id("outbox-item").filter(has_text="周敏")
    row.get_by_text("办理").first.click()
    row.get_by_label("撤回理由").fill("当事人已迁回户籍地")
    row.get_by_role("button", name="撤回").click()
    expect(page.get_by_role("status")).to_have_text("已撤回。")
    expect(page.get_by_test_id("outbox-item").filter(has_text="周敏")).to_contain_text("已撤回")
    row = page.get_by_test_id("outbox-item").filter(has_text="郑红")
    row.get_by_text("办理").first.click()
    row.get_by_label("对方反馈内容").fill("电话告知：郑红已婚，育有一女。")
    row.get_by_label("反馈方式").select_option("phone")
    row.get_by_label("反馈送达时间").fill(replied)
    check_page(page, screenshot_dir, "verification-outbox-actions", phone=True)
    row.get_by_role("button", name="登记对方反馈").click()
    expect(page.get_by_role("status")).to_have_text("对方反馈已登记。")
    expect(page.get_by_test_id("outbox-item").filter(has_text="郑红")).to_contain_text("已反馈：电话告知")
    check_page(page)
