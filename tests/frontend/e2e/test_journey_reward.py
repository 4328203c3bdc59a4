"""The reward journey of issue #22: a reward case (独生子女父母奖励) decided through its three-signature chain on the
case page by three different people (谁调查、谁负责;谁审核、谁负责;谁签字、谁负责): the township officer investigates,
the township supervisor reviews, the county supervisor signs, each through the real case workflow. The investigator
cannot sign the review; the signature shows who, when and the words attested. Every page passes axe-core and fits a
360 px phone."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from temporalio.client import Client

from backend.authz.vocabulary import Role
from backend.core.temporal import connect
from backend.models import CaseStage
from tests.frontend.e2e.conftest import BackgroundLoop, World
from tests.frontend.e2e.helpers import check_page, sign_in, sign_out
from tests.frontend.e2e.test_journey_verification import _drain, _stage
from tests.frontend.e2e.test_journeys import _plan_loaded, _start_worker
from workflows.cases.types import CaseWorkflowInput, case_workflow_id
from workflows.cases.workflows import CaseWorkflow
from workflows.outbox import OutboxRelay
from workflows.outbox_handlers import case_handlers
from workflows.worker import build_case_worker

pytestmark = pytest.mark.e2e


def _sign(page: Page, live_server: str, case_id: uuid.UUID, step: str, note: str | None = None) -> None:
    page.goto(f"{live_server}/cases/{case_id}")
    chain = page.locator("section", has=page.locator("#signoffs-title"))
    expect(chain.get_by_test_id(f"pending-{step}")).to_contain_text("待签字")
    if note:
        chain.get_by_label("签字意见（可选）").fill(note)
    chain.get_by_label("本人确认以上声明，并对签字负责").check()
    chain.get_by_role("button", name=re.compile("^签字：")).click()
    expect(page.get_by_role("status").first).to_have_text("签字已提交，流程处理后案件状态将更新。")


def test_journey_reward_case_signed_by_investigator_reviewer_and_signer(
    page: Page, live_server: str, world: World, background: BackgroundLoop, screenshot_dir: Path
) -> None:
    county = background.run(world.build("奖扶县"))
    background.run(world.user("diaocha.li", "t1", [(Role.township_officer, "t1")]))
    background.run(world.user("shenhe.wang", "t1", [(Role.township_supervisor, "t1")]))
    background.run(world.user("qianzi.zhao", "county", [(Role.county_supervisor, "county")]))
    case = background.run(
        world.case("李秀兰", "v11", stage=CaseStage.verification, due_in=None, case_type="only_child_reward")
    )

    client: Client = background.run(connect(world.settings))
    worker = build_case_worker(client, world.database, task_queue=f"cases-{uuid.uuid4()}")
    relay = OutboxRelay(world.database, {"case.act": case_handlers(client)["case.act"]})
    background.run(_start_worker(worker))
    try:
        handle = background.run(
            client.start_workflow(
                CaseWorkflow.run,
                CaseWorkflowInput(
                    tenant_id=county.tenant.id, tenant_code=county.code, case_id=case.id, case_number=case.number
                ),
                id=case_workflow_id(county.code, case.id),
                task_queue=worker.task_queue,
            )
        )
        background.run(_plan_loaded(handle))

        # 调查: the township officer investigates and signs; the attestation must be confirmed first.
        sign_in(page, live_server, county, "diaocha.li")
        page.goto(f"{live_server}/cases/{case.id}")
        chain = page.locator("section", has=page.locator("#signoffs-title"))
        expect(chain).to_contain_text("谁调查、谁负责")
        chain.get_by_role("button", name="签字：调查").click()
        expect(page.locator("#e-attest")).to_contain_text("须确认签字声明")
        _sign(page, live_server, case.id, "investigate", note="已入户核实")
        background.run(_drain(relay, county))
        background.run(_stage(world, county, case.id, "audit"))
        page.goto(f"{live_server}/cases/{case.id}")
        chain = page.locator("section", has=page.locator("#signoffs-title"))
        expect(chain.get_by_test_id("signed-investigate")).to_contain_text("diaocha.li")
        expect(chain.get_by_test_id("pending-review")).to_be_visible()
        # The investigator cannot fill the next step: no form, and the page says why.
        expect(chain.get_by_role("button", name="签字：审核")).to_have_count(0)
        expect(chain).to_contain_text("您已签署本案的其他步骤，本步骤须由他人签字。")
        check_page(page, screenshot_dir, "case-signoffs", phone=True)
        sign_out(page)

        # 审核: the township supervisor reviews.
        sign_in(page, live_server, county, "shenhe.wang")
        _sign(page, live_server, case.id, "review")
        background.run(_drain(relay, county))
        page.goto(f"{live_server}/cases/{case.id}")
        chain = page.locator("section", has=page.locator("#signoffs-title"))
        expect(chain.get_by_test_id("signed-review")).to_contain_text("shenhe.wang")
        expect(chain.get_by_test_id("pending-sign")).to_be_visible()
        expect(chain.get_by_role("button", name="签字：签字")).to_have_count(0)  # she reviewed: not hers to sign
        sign_out(page)

        # 签字: the county supervisor signs; the case is decided (approved).
        sign_in(page, live_server, county, "qianzi.zhao")
        _sign(page, live_server, case.id, "sign")
        background.run(_drain(relay, county))
        background.run(handle.result())
    finally:
        background.run(worker.shutdown())

    page.goto(f"{live_server}/cases/{case.id}")
    expect(page.locator(".countdown")).to_have_text("已办结")
    chain = page.locator("section", has=page.locator("#signoffs-title"))
    expect(chain.get_by_test_id("signed-investigate")).to_contain_text("diaocha.li")
    expect(chain.get_by_test_id("signed-review")).to_contain_text("shenhe.wang")
    expect(chain.get_by_test_id("signed-sign")).to_contain_text("qianzi.zhao")
    expect(chain).to_contain_text("签字意见：已入户核实")
    expect(chain).to_contain_text("谁签字、谁负责")
    check_page(page, screenshot_dir, "case-signoffs-done")
