"""A user's life cycle from the administrator's pages: disable and enable, unlock after failed sign-ins, reset the
password to a temporary one that must be changed at the next sign-in (nothing else is allowed before), revoke a
role; every step audited."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from backend.authz.vocabulary import Role
from backend.db.engine import Database
from tests.fixtures.database import TenantFactory
from tests.fixtures.identity import PASSWORD, County, SignIn, add_user, build_county

TEMPORARY = "Temporary-pass-2026"
NEW = "My-own-password-2026"


@pytest.fixture
async def county(database: Database, tenant_factory: TenantFactory) -> County:
    county = await build_county(database, tenant_factory)
    await add_user(database, county, "admin", "county", [(Role.county_admin, "county")])
    await add_user(database, county, "auditor", "county", [(Role.auditor, "county")])
    await add_user(database, county, "li.na", "t1", [(Role.township_officer, "t1")])
    return county


def _client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


async def _login(client: httpx.AsyncClient, county: County, password: str) -> httpx.Response:
    body = {"tenant_code": county.code, "username": "li.na", "password": password}
    return await client.post("/api/v1/auth/session", json=body)


async def _page_post(admin: httpx.AsyncClient, path: str, **form: str) -> httpx.Response:
    return await admin.post(path, data={**form, "csrf_token": admin.headers["X-CSRF-Token"]})


async def test_a_reset_password_must_be_changed_before_anything_else(
    app: FastAPI, county: County, sign_in: SignIn
) -> None:
    admin = await sign_in(county, "admin")
    officer = await sign_in(county, "li.na")
    user_id = str(county.users["li.na"].id)
    short = await _page_post(admin, f"/admin/users/{user_id}/password", temporary_password="short")
    assert short.status_code == 422 and 'id="e-temporary_password"' in short.text
    reset = await _page_post(admin, f"/admin/users/{user_id}/password", temporary_password=TEMPORARY)
    assert reset.status_code == 303
    assert (await officer.get("/api/v1/auth/me")).status_code == 401  # her sessions ended
    async with _client(app) as browser:
        assert (await _login(browser, county, PASSWORD)).status_code == 401
        signed_in = await _login(browser, county, TEMPORARY)
        assert signed_in.json()["must_change_password"] is True
        browser.headers["X-CSRF-Token"] = signed_in.json()["csrf_token"]
        refused = await browser.get("/api/v1/cases")
        assert (refused.status_code, refused.json()["error"]) == (403, "PASSWORD_CHANGE_REQUIRED")
        for page in ("/cases", "/dashboard"):
            sent = await browser.get(page, headers={"Accept": "text/html"})
            assert (sent.status_code, sent.headers["location"]) == (303, "/password?required=1")
        change = {"current_password": TEMPORARY, "new_password": NEW}
        assert (await browser.post("/api/v1/auth/password", json=change)).status_code == 204
        assert (await browser.get("/api/v1/cases")).status_code == 200
    events = (
        await (await sign_in(county, "auditor")).get("/api/v1/audit/events", params={"entity_id": user_id})
    ).json()
    assert {"user.password_reset", "user.password_change"} <= {event["action"] for event in events}


async def test_disable_enable_and_unlock_from_the_user_page(app: FastAPI, county: County, sign_in: SignIn) -> None:
    admin = await sign_in(county, "admin")
    user_id = str(county.users["li.na"].id)
    page = (await admin.get(f"/admin/users/{user_id}")).text
    version = page.split('name="version" value="')[1].split('"')[0]
    assert (await _page_post(admin, f"/admin/users/{user_id}/active", active="0", version=version)).status_code == 303
    async with _client(app) as browser:
        assert (await _login(browser, county, PASSWORD)).status_code == 401
    page = (await admin.get(f"/admin/users/{user_id}")).text
    assert "已停用" in page
    version = page.split('name="version" value="')[1].split('"')[0]
    assert (await _page_post(admin, f"/admin/users/{user_id}/active", active="1", version=version)).status_code == 303
    async with _client(app) as browser:
        for _ in range(6):
            await _login(browser, county, "wrong-password-1")
        assert (await _login(browser, county, PASSWORD)).status_code == 401
        assert "已锁定" in (await admin.get(f"/admin/users/{user_id}")).text
        assert (await _page_post(admin, f"/admin/users/{user_id}/unlock")).status_code == 303
        assert (await _login(browser, county, PASSWORD)).status_code == 200


async def test_an_administrator_does_not_reset_her_own_password_here(county: County, sign_in: SignIn) -> None:
    admin = await sign_in(county, "admin")
    refused = await admin.post(
        f"/api/v1/admin/users/{county.users['admin'].id}/password-reset", json={"temporary_password": TEMPORARY}
    )
    assert refused.status_code == 422
