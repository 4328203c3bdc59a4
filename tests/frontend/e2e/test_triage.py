"""The notification triage page in the browser: a township officer verifies and accepts a police notification
about a woman in the registry, and sends back another with a reason (refused without one); the department's
notifications arrive through the intake API and the router, as in production."""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from backend.authz.vocabulary import Role
from backend.core.crypto import personal_data_cipher
from backend.db.tenancy import set_tenant
from backend.intake.routing import IntakeRouter, RouterSettings
from backend.models import FlowDirection, Person, Sex
from backend.persons.names import name_search_keys
from tests.backend.intake.conftest import new_resident_id, residence
from tests.fixtures.identity import PASSWORD, County
from tests.frontend.e2e.conftest import BackgroundLoop, World
from tests.frontend.e2e.helpers import check_page, sign_in

pytestmark = pytest.mark.e2e


async def _person(world: World, county: County, name: str, resident_id: str) -> None:
    keys = name_search_keys(name)
    cipher = personal_data_cipher()
    async with world.database.sessionmaker() as session, session.begin():
        await set_tenant(session, county.tenant.id)
        session.add(
            Person(
                id=uuid.uuid4(),
                tenant_id=county.tenant.id,
                name=name,
                name_pinyin=keys.pinyin,
                name_initials=keys.initials,
                sex=Sex.female,
                ethnicity="汉族",
                org_unit_code=county.units["v11"],
                flow_direction=FlowDirection.inflow,
                key_subject=False,
                resident_id_ciphertext=cipher.encrypt(resident_id, context="person.resident_id"),
                resident_id_hash=cipher.lookup_hash(resident_id, context="person.resident_id"),
            )
        )


async def _police_notifies(live_server: str, world: World, county: County, bodies: list[dict]) -> None:
    """The county admin registers the police system; it submits the notifications; the router routes them."""
    async with httpx.AsyncClient(base_url=live_server) as admin, httpx.AsyncClient(base_url=live_server) as police:
        session = await admin.post(
            "/api/v1/auth/session", json={"tenant_code": county.code, "username": "xian.admin", "password": PASSWORD}
        )
        assert session.status_code == 200, session.text
        admin.headers["X-CSRF-Token"] = session.json()["csrf_token"]
        created = await admin.post(
            "/api/v1/admin/api-clients",
            json={
                "name": "公安暂住登记系统",
                "department": "police",
                "scopes": ["intake:police", "intake:read_status"],
            },
        )
        assert created.status_code == 201, created.text
        token = await police.post(
            "/api/v1/oauth/token",
            data={
                "grant_type": "client_credentials",
                "client_id": created.json()["client_id"],
                "client_secret": created.json()["client_secret"],
            },
        )
        assert token.status_code == 200, token.text
        police.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
        for body in bodies:
            response = await police.post("/api/v1/notifications", json=body)
            assert response.status_code == 202, response.text
    await IntakeRouter(world.database, RouterSettings(batch_size=200)).drain()


def test_triage_page_verifies_and_accepts_one_notification_and_sends_back_another_with_a_reason(
    page: Page, live_server: str, world: World, background: BackgroundLoop, screenshot_dir: Path
) -> None:
    county = background.run(world.build("通报县"))
    background.run(world.user("xian.admin", "county", [(Role.county_admin, "county")]))
    background.run(world.user("zhen.sun", "t1", [(Role.township_officer, "t1")]))
    known = new_resident_id()
    background.run(_person(world, county, "王芳", known))
    background.run(
        _police_notifies(
            live_server,
            world,
            county,
            [
                residence(county.code, person={"resident_id": known, "name": "王芳"}, address="新地址9号"),
                residence(county.code, person={"resident_id": new_resident_id(), "name": "赵燕"}),
            ],
        )
    )

    sign_in(page, live_server, county, "zhen.sun")
    page.get_by_role("navigation", name="主菜单").get_by_role("link", name="部门通报").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("部门通报核实")
    items = page.get_by_test_id("triage-item")
    expect(items).to_have_count(2)
    known_item = items.filter(has_text="王芳")
    expect(known_item).to_contain_text("已匹配人员")
    expect(items.filter(has_text="赵燕")).to_contain_text("未匹配到人员")
    check_page(page, screenshot_dir, "triage", phone=True)

    known_item.get_by_role("button", name="核实无误").click()
    expect(page.get_by_role("status")).to_have_text("已核实。")
    known_item = page.get_by_test_id("triage-item").filter(has_text="王芳")
    expect(known_item.get_by_test_id("triage-state")).to_have_text("已核实，待纳入")
    known_item.get_by_role("button", name="纳入台账").click()
    expect(page.get_by_role("status")).to_have_text("已纳入台账。")
    expect(page.get_by_test_id("triage-item")).to_have_count(1)  # only the open one is left

    other = page.get_by_test_id("triage-item").filter(has_text="赵燕")
    other.get_by_role("button", name="退回").click()
    other = page.get_by_test_id("triage-item").filter(has_text="赵燕")
    expect(other.locator("p.field-error")).to_contain_text("退回须写明理由")
    check_page(page)
    other.get_by_label("退回理由").fill("经核实此人未在本辖区居住")
    other.get_by_role("button", name="退回").click()
    expect(page.get_by_role("status")).to_have_text("已退回。")
    expect(page.get_by_test_id("triage-item")).to_have_count(0)

    page.get_by_label("范围").select_option("all")
    page.get_by_role("button", name="查询").click()
    states = page.get_by_test_id("triage-state")
    expect(states).to_have_count(2)
    expect(page.get_by_test_id("triage-item").filter(has_text="王芳").get_by_test_id("triage-state")).to_have_text(
        "已纳入台账"
    )
    expect(page.get_by_test_id("triage-item").filter(has_text="赵燕").get_by_test_id("triage-state")).to_have_text(
        "已退回：经核实此人未在本辖区居住"
    )
    check_page(page)
