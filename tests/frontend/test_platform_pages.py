"""The platform operator's page session: only the platform token signs in, the cookie holds no token, a forged or
expired cookie and a write without the CSRF token are turned away, and a county user's session opens nothing."""

from __future__ import annotations

import re
import time

import httpx
from fastapi import FastAPI

from backend.authz.vocabulary import Role
from backend.config import Settings
from backend.db.engine import Database
from frontend.pages.platform import PLATFORM_COOKIE, _session_value
from tests.fixtures.database import TenantFactory
from tests.fixtures.identity import SignIn, add_user, build_county


def _client(app: FastAPI) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://testserver", headers={"Accept": "text/html"})


async def _signed_in(client: httpx.AsyncClient, token: str) -> httpx.Response:
    form = await client.get("/platform/login")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert csrf is not None
    return await client.post("/platform/login", data={"csrf_token": csrf.group(1), "platform_token": token})


async def test_only_the_platform_token_signs_in_and_the_cookie_does_not_carry_it(
    app: FastAPI, settings: Settings
) -> None:
    async with _client(app) as client:
        assert (await client.get("/platform/calendar")).headers["location"] == "/platform/login"
        refused = await _signed_in(client, "not-the-token")
        assert refused.status_code == 401 and "平台令牌不正确" in refused.text
        accepted = await _signed_in(client, settings.platform_admin_token)
        assert accepted.status_code == 303 and accepted.headers["location"] == "/platform/calendar"
        cookie = client.cookies.get(PLATFORM_COOKIE)
        assert cookie and settings.platform_admin_token not in cookie
        page = await client.get("/platform/calendar")
        assert page.status_code == 200 and "国务院放假安排" in page.text

        # A write without the page's CSRF token changes nothing and goes back to sign-in.
        write = await client.post("/platform/calendar/preview", data={"text": "date,kind,name,source\n"})
        assert write.status_code == 303 and write.headers["location"] == "/platform/login"
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert csrf is not None
        preview = await client.post(
            "/platform/calendar/preview", data={"csrf_token": csrf.group(1), "text": "date,kind,name,source\n"}
        )
        assert preview.status_code == 422 and "没有任何日期" in preview.text


async def test_a_forged_or_expired_cookie_opens_nothing(app: FastAPI, settings: Settings) -> None:
    expired = _session_value(settings.platform_admin_token, int(time.time()) - 1)
    forged = _session_value("a-guessed-token", int(time.time()) + 3600)
    for value in (expired, forged, "garbage"):
        async with _client(app) as client:
            client.cookies.set(PLATFORM_COOKIE, value)
            response = await client.get("/platform/calendar")
            assert response.status_code == 303 and response.headers["location"] == "/platform/login"


async def test_a_county_users_session_does_not_open_the_platform_pages(
    database: Database, tenant_factory: TenantFactory, sign_in: SignIn
) -> None:
    county = await build_county(database, tenant_factory, "平台页县")
    await add_user(database, county, "xian.admin", "county", [(Role.county_admin, "county")])
    admin = await sign_in(county, "xian.admin")
    response = await admin.get("/platform/calendar", headers={"Accept": "text/html"})
    assert response.status_code == 303 and response.headers["location"] == "/platform/login"
    api = await admin.post("/api/v1/platform/calendar/notices", content="x", headers={"Content-Type": "text/plain"})
    assert api.status_code == 403
