"""Issue #19's browser journey: a verification request sent by county A appears in county B's officer's bell and
to-do count within seconds, without reloading her page; she opens it from the notification centre, answers it in
her inbox, and her bell and to-do list clear; A's assignee finds the answer in her bell. The request is sent
through the API (the case page's sending is journey 2's subject)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from backend.authz.vocabulary import Role
from tests.fixtures.identity import PASSWORD, County
from tests.frontend.e2e.conftest import BackgroundLoop, World
from tests.frontend.e2e.helpers import check_page, sign_in, sign_out
from workflows.outbox import OutboxRelay
from workflows.outbox_handlers import notification_handlers

pytestmark = pytest.mark.e2e
HEADER_REFRESH_MS = 20_000  # the header refreshes its counts every 15 seconds


async def _api(live_server: str, county: County, username: str) -> httpx.AsyncClient:
    client = httpx.AsyncClient(base_url=live_server)
    response = await client.post(
        "/api/v1/auth/session", json={"tenant_code": county.code, "username": username, "password": PASSWORD}
    )
    assert response.status_code == 200, response.text
    client.headers["X-CSRF-Token"] = response.json()["csrf_token"]
    return client


async def _request_from_a(live_server: str, a: County, b: County) -> str:
    """A's supervisor opens a case and gives it to her officer, who sends a request to B's township t1."""
    supervisor = await _api(live_server, a, "jia.sup")
    officer = await _api(live_server, a, "jia.officer")
    try:
        case = await supervisor.post("/api/v1/cases", json={"case_type": "complaint", "org_unit_code": a.units["v11"]})
        assert case.status_code == 201, case.text
        assigned = await supervisor.post(
            f"/api/v1/cases/{case.json()['id']}/assign", json={"assignee_id": str(a.users["jia.officer"].id)}
        )
        assert assigned.status_code == 200, assigned.text
        sent = await officer.post(
            "/api/v1/verification/requests",
            json={
                "case_id": case.json()["id"],
                "subject_name": "吴晓燕",
                "responder_division_code": b.units["t1"],
                "question": "请核实婚育情况",
            },
        )
        assert sent.status_code == 201, sent.text
        return str(sent.json()["correlation_id"])
    finally:
        await supervisor.aclose()
        await officer.aclose()


async def _drain(relay: OutboxRelay, county: County) -> None:
    while await relay.process_county(county.tenant.id):
        pass


def test_a_request_reaches_the_other_countys_bell_and_its_answer_the_requesters(
    page: Page, live_server: str, world: World, background: BackgroundLoop, screenshot_dir: Path
) -> None:
    county_a = background.run(world.build("甲县"))
    background.run(world.user("jia.officer", "t1", [(Role.township_officer, "t1")]))
    background.run(world.user("jia.sup", "t1", [(Role.township_supervisor, "t1")]))
    world_b = World(world.settings, world.database)
    county_b = background.run(world_b.build("乙县"))
    background.run(world_b.user("yi.officer", "t1", [(Role.township_officer, "t1")]))
    background.run(world_b.user("yi.other", "t2", [(Role.township_officer, "t2")]))
    relay = OutboxRelay(world.database, notification_handlers(world.database))

    # B's officer is at work, her to-do list empty, when the request is sent.
    sign_in(page, live_server, county_b, "yi.officer")
    page.get_by_role("link", name="我的待办", exact=True).first.click()
    expect(page.get_by_test_id("todo-total")).to_have_text("0")
    correlation_id = background.run(_request_from_a(live_server, county_a, county_b))
    background.run(_drain(relay, county_a))

    # Within seconds, without reloading: the header's bell and to-do count (HTMX, every 15 seconds).
    expect(page.get_by_test_id("unread-count")).to_have_text("1", timeout=HEADER_REFRESH_MS)
    expect(page.get_by_test_id("todo-count")).to_have_text("1", timeout=HEADER_REFRESH_MS)
    page.reload()
    item = page.get_by_test_id("todo-item")
    expect(item).to_have_count(1)
    expect(item).to_contain_text(correlation_id)
    expect(item).to_contain_text("待反馈协查")
    check_page(page, screenshot_dir, "todo", phone=True)

    # The notification centre opens it in her inbox.
    page.get_by_role("link", name="通知").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("通知")
    item = page.get_by_test_id("notification")
    expect(item).to_have_count(1)
    expect(item).to_contain_text(correlation_id)
    expect(item).to_contain_text("未读")
    check_page(page, screenshot_dir, "notifications", phone=True)
    item.get_by_role("button").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("协查收件箱")
    inbox = page.get_by_test_id("inbox-item")
    expect(inbox).to_have_count(1)
    expect(page.get_by_test_id("unread-count")).to_have_count(0)  # opened: read
    inbox.locator("summary").click()  # the request's details and answer form
    inbox.get_by_label("反馈内容").fill("经核实，已婚，未生育子女。")
    inbox.get_by_role("button", name="反馈", exact=True).click()
    expect(page.get_by_role("status")).to_have_text("已反馈。")
    # Answered: gone from her to-do list.
    page.get_by_role("link", name="我的待办", exact=True).first.click()
    expect(page.get_by_test_id("todo-total")).to_have_text("0")
    expect(page.get_by_test_id("todo-item")).to_have_count(0)
    sign_out(page)

    # B's other township was never told.
    sign_in(page, live_server, county_b, "yi.other")
    expect(page.locator("#bell")).to_have_text("通知")
    sign_out(page)

    # A: the assignee finds the answer in her bell (and the assignment before it).
    background.run(_drain(relay, county_b))
    sign_in(page, live_server, county_a, "jia.officer")
    expect(page.get_by_test_id("unread-count")).to_have_text("2")
    page.get_by_role("link", name="通知").click()
    expect(page.get_by_test_id("notification").first).to_contain_text(f"协查{correlation_id}已反馈")
