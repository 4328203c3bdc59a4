"""Browser sign-in: lockout, CSRF, session expiry, no user enumeration, passwords never logged."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import text

from backend.authz.vocabulary import Role
from backend.core.clock import clock
from backend.core.logging import JsonFormatter
from backend.db.engine import Database
from backend.db.tenancy import set_tenant
from tests.fixtures.database import TenantFactory
from tests.fixtures.identity import PASSWORD, County, SignIn, add_user, build_county


@pytest.fixture
def moved_clock() -> Iterator[None]:
    yield
    clock.reset()


@pytest.fixture
async def county(database: Database, tenant_factory: TenantFactory) -> County:
    county = await build_county(database, tenant_factory)
    await add_user(database, county, "li.officer", "t1", [(Role.township_officer, "t1")])
    return county


async def _login(api: httpx.AsyncClient, county: County, username: str, password: str) -> httpx.Response:
    return await api.post(
        "/api/v1/auth/session", json={"tenant_code": county.code, "username": username, "password": password}
    )


async def _audit_actions(database: Database, county: County) -> list[str]:
    async with database.sessionmaker() as session, session.begin():
        await set_tenant(session, county.tenant.id)
        rows = await session.execute(text("SELECT action FROM audit_events ORDER BY seq"))
        return [row.action for row in rows]


class TestSignIn:
    async def test_correct_password_opens_a_session(self, api: httpx.AsyncClient, county: County) -> None:
        response = await _login(api, county, "li.officer", PASSWORD)
        assert response.status_code == 200
        cookie = response.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie
        me = await api.get("/api/v1/auth/me")
        assert me.json()["roles"] == [{"role": "township_officer", "org_unit_code": county.units["t1"]}]

    async def test_unknown_user_and_wrong_password_look_the_same(self, api: httpx.AsyncClient, county: County) -> None:
        unknown = await _login(api, county, "nobody", PASSWORD)
        wrong = await _login(api, county, "li.officer", "Wrong-password-1")
        other_county = await api.post(
            "/api/v1/auth/session", json={"tenant_code": "000001", "username": "li.officer", "password": PASSWORD}
        )
        assert unknown.status_code == wrong.status_code == other_county.status_code == 401
        assert unknown.json() == wrong.json() == other_county.json()

    async def test_lockout_after_repeated_failures_is_audited(
        self, api: httpx.AsyncClient, county: County, database: Database, moved_clock: None
    ) -> None:
        for _ in range(5):
            assert (await _login(api, county, "li.officer", "Wrong-password-1")).status_code == 401
        # Locked: even the right password is refused, with the same answer.
        locked = await _login(api, county, "li.officer", PASSWORD)
        assert locked.status_code == 401
        actions = await _audit_actions(database, county)
        assert actions.count("user.login_failed") == 6
        assert actions.count("user.locked") == 1
        clock.advance(timedelta(minutes=16))
        assert (await _login(api, county, "li.officer", PASSWORD)).status_code == 200

    async def test_password_is_never_logged_or_audited(
        self, api: httpx.AsyncClient, county: County, database: Database
    ) -> None:
        buffer = io.StringIO()
        handler = logging.StreamHandler(buffer)
        handler.setFormatter(JsonFormatter())
        root = logging.getLogger()
        root.addHandler(handler)
        previous = root.level
        root.setLevel(logging.DEBUG)
        try:
            await _login(api, county, "li.officer", "Secret-typo-9876")
            await _login(api, county, "li.officer", PASSWORD)
        finally:
            root.removeHandler(handler)
            root.setLevel(previous)
        assert buffer.getvalue()  # something was logged
        assert "Secret-typo-9876" not in buffer.getvalue() and PASSWORD not in buffer.getvalue()
        async with database.sessionmaker() as session, session.begin():
            await set_tenant(session, county.tenant.id)
            dump = (
                await session.execute(
                    text("SELECT string_agg(changes::text || coalesce(reason, ''), ' ') FROM audit_events")
                )
            ).scalar_one()
        assert "Secret-typo-9876" not in dump and PASSWORD not in dump


class TestCsrf:
    async def test_cookie_writes_need_the_csrf_token(self, county: County, sign_in: SignIn) -> None:
        client = await sign_in(county, "li.officer")
        good_token = client.headers.pop("X-CSRF-Token")
        body = {"current_password": PASSWORD, "new_password": "Another-horse-2026"}
        missing = await client.post("/api/v1/auth/password", json=body)
        wrong = await client.post("/api/v1/auth/password", json=body, headers={"X-CSRF-Token": "forged"})
        assert (missing.status_code, missing.json()["error"]) == (403, "CSRF_REJECTED")
        assert (wrong.status_code, wrong.json()["error"]) == (403, "CSRF_REJECTED")
        right = await client.post("/api/v1/auth/password", json=body, headers={"X-CSRF-Token": good_token})
        assert right.status_code == 204

    async def test_reads_do_not_need_it(self, county: County, sign_in: SignIn) -> None:
        client = await sign_in(county, "li.officer")
        client.headers.pop("X-CSRF-Token")
        assert (await client.get("/api/v1/auth/me")).status_code == 200


class TestSessionExpiry:
    async def test_idle_session_expires(self, county: County, sign_in: SignIn, moved_clock: None) -> None:
        client = await sign_in(county, "li.officer")
        clock.advance(timedelta(minutes=29))
        assert (await client.get("/api/v1/auth/me")).status_code == 200
        clock.advance(timedelta(minutes=31))
        assert (await client.get("/api/v1/auth/me")).status_code == 401

    async def test_absolute_expiry_ends_even_an_active_session(
        self, county: County, sign_in: SignIn, moved_clock: None
    ) -> None:
        client = await sign_in(county, "li.officer")
        for _ in range(35):  # 35 × 20 minutes = 11 h 40 min of continuous use
            clock.advance(timedelta(minutes=20))
            assert (await client.get("/api/v1/auth/me")).status_code == 200
        clock.advance(timedelta(minutes=21))
        assert (await client.get("/api/v1/auth/me")).status_code == 401

    async def test_logout_ends_the_session(self, county: County, sign_in: SignIn) -> None:
        client = await sign_in(county, "li.officer")
        assert (await client.delete("/api/v1/auth/session")).status_code == 204
        client.cookies.clear()
        assert (await client.get("/api/v1/auth/me")).status_code == 401

    async def test_a_forged_cookie_is_refused(self, api: httpx.AsyncClient, county: County) -> None:
        api.cookies.set("lg_session", f"{county.tenant.id}.not-a-real-secret")
        assert (await api.get("/api/v1/auth/me")).status_code == 401
        api.cookies.set("lg_session", "garbage")
        assert (await api.get("/api/v1/auth/me")).status_code == 401


class TestPasswordChange:
    async def test_change_ends_other_sessions(self, county: County, sign_in: SignIn) -> None:
        first, second = await sign_in(county, "li.officer"), await sign_in(county, "li.officer")
        response = await first.post(
            "/api/v1/auth/password", json={"current_password": PASSWORD, "new_password": "Brand-new-pass-77"}
        )
        assert response.status_code == 204
        assert (await first.get("/api/v1/auth/me")).status_code == 200
        assert (await second.get("/api/v1/auth/me")).status_code == 401

    @pytest.mark.parametrize(
        ("new_password", "field"),
        [
            ("short", "new_password"),
            ("li.officer-2026-x", "new_password"),
            ("aaaaaaaaaaaa", "new_password"),
        ],
    )
    async def test_weak_passwords_are_refused_with_the_field(
        self, county: County, sign_in: SignIn, new_password: str, field: str
    ) -> None:
        client = await sign_in(county, "li.officer")
        response = await client.post(
            "/api/v1/auth/password", json={"current_password": PASSWORD, "new_password": new_password}
        )
        assert response.status_code == 422
        assert response.json()["fields"][0]["loc"] == ["body", field]

    async def test_wrong_current_password(self, county: County, sign_in: SignIn) -> None:
        client = await sign_in(county, "li.officer")
        response = await client.post(
            "/api/v1/auth/password", json={"current_password": "nope-nope-nope", "new_password": "Brand-new-pass-77"}
        )
        assert response.json()["fields"][0]["loc"] == ["body", "current_password"]
