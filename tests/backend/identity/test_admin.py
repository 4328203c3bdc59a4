"""County admins manage users and role grants; everything audited; counties never see each other."""

from __future__ import annotations

import httpx
import pytest

from backend.authz.vocabulary import Role
from backend.db.engine import Database
from tests.fixtures.database import TenantFactory
from tests.fixtures.identity import PASSWORD, County, SignIn, add_user, build_county


@pytest.fixture
async def county(database: Database, tenant_factory: TenantFactory) -> County:
    county = await build_county(database, tenant_factory)
    await add_user(database, county, "admin", "county", [(Role.county_admin, "county")])
    await add_user(database, county, "auditor", "county", [(Role.auditor, "county")])
    return county


@pytest.fixture
async def other(database: Database, tenant_factory: TenantFactory) -> County:
    other = await build_county(database, tenant_factory, "他县")
    await add_user(database, other, "admin", "county", [(Role.county_admin, "county")])
    await add_user(database, other, "wang", "t1", [(Role.township_officer, "t1")])
    return other


async def _create(admin: httpx.AsyncClient, county: County, username: str = "zhou.min", **overrides: object):  # type: ignore[no-untyped-def]
    body = {
        "username": username,
        "display_name": "周敏",
        "org_unit_code": county.units["t1"],
        "password": PASSWORD,
        "grants": [{"role": "township_officer", "org_unit_code": county.units["t1"]}],
        **overrides,
    }
    return await admin.post("/api/v1/admin/users", json=body)


class TestUserAdministration:
    async def test_new_user_signs_in_and_sees_only_her_township(self, county: County, sign_in: SignIn) -> None:
        admin = await sign_in(county, "admin")
        created = await _create(admin, county)
        assert created.status_code == 201, created.text
        assert [g["role"] for g in created.json()["grants"]] == ["township_officer"]
        officer = await sign_in(county, "zhou.min")
        codes = {unit["code"] for unit in (await officer.get("/api/v1/org-units")).json()}
        assert codes == {county.units["t1"], county.units["v11"], county.units["v12"]}
        assert (await officer.get(f"/api/v1/org-units/{county.units['t2']}")).status_code == 404

    async def test_every_admin_write_is_audited(self, county: County, sign_in: SignIn) -> None:
        admin = await sign_in(county, "admin")
        user = (await _create(admin, county)).json()
        grant = await admin.post(
            f"/api/v1/admin/users/{user['id']}/grants",
            json={"role": "township_supervisor", "org_unit_code": county.units["t1"]},
        )
        await admin.delete(f"/api/v1/admin/users/{user['id']}/grants/{grant.json()['id']}")
        auditor = await sign_in(county, "auditor")
        events = (await auditor.get("/api/v1/audit/events", params={"entity_id": user["id"]})).json()
        assert [e["action"] for e in reversed(events)] == [
            "user.create",
            "role_grant.create",
            "role_grant.create",
            "role_grant.revoke",
        ]
        assert all(e["actor_label"].startswith("admin") for e in events)

    @pytest.mark.parametrize(
        ("overrides", "field"),
        [
            ({"grants": [{"role": "county_officer", "org_unit_code": "T1"}]}, "grants.0"),
            ({"grants": [{"role": "village_coordinator", "org_unit_code": "T1"}]}, "grants.0"),
            ({"grants": [{"role": "platform_admin", "org_unit_code": "COUNTY"}]}, "grants.0"),
            ({"password": "short"}, "password"),
            ({"username": "a b"}, "username"),
            ({"org_unit_code": "110101001"}, "org_unit_code"),
            ({"grants": [{"role": "nope", "org_unit_code": "T1"}]}, "grants"),
        ],
    )
    async def test_bad_users_are_refused_naming_the_field_and_nothing_is_written(
        self, county: County, sign_in: SignIn, overrides: dict[str, object], field: str
    ) -> None:
        admin = await sign_in(county, "admin")
        resolved = {
            key: [
                {"role": g["role"], "org_unit_code": county.units["t1"] if g["org_unit_code"] == "T1" else county.code}
                for g in value
            ]
            if key == "grants"
            else value  # type: ignore[union-attr]
            for key, value in overrides.items()
        }
        response = await _create(admin, county, **resolved)
        assert response.status_code == 422, response.text
        assert field in ".".join(str(part) for part in response.json()["fields"][0]["loc"])
        names = {user["username"] for user in (await admin.get("/api/v1/admin/users")).json()}
        assert "zhou.min" not in names

    async def test_duplicate_username_is_409(self, county: County, sign_in: SignIn) -> None:
        admin = await sign_in(county, "admin")
        await _create(admin, county)
        assert (await _create(admin, county)).status_code == 409

    async def test_concurrent_edit_is_409_with_the_current_values(self, county: County, sign_in: SignIn) -> None:
        admin = await sign_in(county, "admin")
        user = (await _create(admin, county)).json()
        first = await admin.patch(
            f"/api/v1/admin/users/{user['id']}", json={"display_name": "周敏（镇计生办）", "version": user["version"]}
        )
        assert first.status_code == 200
        second = await admin.patch(
            f"/api/v1/admin/users/{user['id']}", json={"display_name": "周敏敏", "version": user["version"]}
        )
        assert (second.status_code, second.json()["error"]) == (409, "STALE_VERSION")
        assert second.json()["current"]["display_name"] == "周敏（镇计生办）"
        current = (await admin.get(f"/api/v1/admin/users/{user['id']}")).json()
        assert current["display_name"] == "周敏（镇计生办）"  # the first write was not lost

    async def test_deactivated_user_loses_her_sessions(self, county: County, sign_in: SignIn) -> None:
        admin = await sign_in(county, "admin")
        user = (await _create(admin, county)).json()
        officer = await sign_in(county, "zhou.min")
        await admin.patch(f"/api/v1/admin/users/{user['id']}", json={"active": False, "version": user["version"]})
        assert (await officer.get("/api/v1/auth/me")).status_code == 401


class TestCrossTenant:
    async def test_ids_from_another_county_answer_404(self, county: County, other: County, sign_in: SignIn) -> None:
        admin = await sign_in(county, "admin")
        foreign_user = other.users["wang"]
        assert (await admin.get(f"/api/v1/admin/users/{foreign_user.id}")).status_code == 404
        assert (
            await admin.patch(f"/api/v1/admin/users/{foreign_user.id}", json={"active": False, "version": 1})
        ).status_code == 404
        assert (await admin.post(f"/api/v1/admin/users/{foreign_user.id}/unlock")).status_code == 404
        assert (await admin.get(f"/api/v1/org-units/{other.units['t1']}")).status_code == 404

    async def test_filters_and_bodies_naming_another_county_see_nothing(
        self, county: County, other: County, sign_in: SignIn
    ) -> None:
        auditor = await sign_in(county, "auditor")
        foreign_user = other.users["wang"]
        events = await auditor.get("/api/v1/audit/events", params={"entity_id": str(foreign_user.id)})
        assert events.status_code == 200 and events.json() == []
        admin = await sign_in(county, "admin")
        response = await _create(
            admin,
            county,
            org_unit_code=other.units["t1"],
            grants=[{"role": "township_officer", "org_unit_code": other.units["t1"]}],
        )
        assert response.status_code == 422
        listed = {user["id"] for user in (await admin.get("/api/v1/admin/users")).json()}
        assert str(foreign_user.id) not in listed

    async def test_a_session_cookie_cannot_be_moved_to_another_county(
        self, county: County, other: County, sign_in: SignIn
    ) -> None:
        admin = await sign_in(county, "admin")
        tenant_id, _, secret = admin.cookies["lg_session"].partition(".")
        admin.cookies.set("lg_session", f"{other.tenant.id}.{secret}")
        assert (await admin.get("/api/v1/auth/me")).status_code == 401
