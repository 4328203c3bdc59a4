"""Separation of duties (issue #16, backend/identity/duties.py): nobody grants a role to herself; a role that reads
personal data for an administrator waits for a second administrator (or the platform operator); the county always
keeps an active administrator. Each county here is built for the test: the tests change its users."""

from __future__ import annotations

import uuid

import httpx
import pytest
from sqlalchemy import select

from backend.db.engine import Database
from backend.db.tenancy import set_tenant
from backend.models import AuditEvent
from tests.fixtures.identity import County, SignIn
from tests.security.conftest import probe_county


@pytest.fixture
async def county(database: Database) -> County:
    return await probe_county(database, "分权县")


async def _grant(client: httpx.AsyncClient, county: County, username: str, role: str, unit: str = "county"):
    user_id = county.users[username].id
    return await client.post(
        f"/api/v1/admin/users/{user_id}/grants", json={"role": role, "org_unit_code": county.units[unit]}
    )


async def _roles(client: httpx.AsyncClient, county: County, username: str) -> set[str]:
    user = (await client.get(f"/api/v1/admin/users/{county.users[username].id}")).json()
    return {grant["role"] for grant in user["grants"]}


async def test_an_administrator_cannot_grant_herself_a_role(county: County, sign_in: SignIn) -> None:
    admin = await sign_in(county, "admin")
    response = await _grant(admin, county, "admin", "county_officer")
    assert response.status_code == 403, response.text
    assert response.json()["error"] == "SELF_GRANT"
    assert await _roles(admin, county, "admin") == {"county_admin"}
    # Nor by reading: her own full-ID view stays closed.
    person = await admin.get("/api/v1/persons")
    assert person.status_code == 403


async def test_a_personal_data_role_for_an_administrator_waits_for_a_second_administrator(
    county: County, sign_in: SignIn, database: Database
) -> None:
    admin, admin2 = await sign_in(county, "admin"), await sign_in(county, "admin2")
    asked = await _grant(admin, county, "admin2", "county_officer")
    assert asked.status_code == 202, asked.text
    request = asked.json()
    assert request["status"] == "pending" and request["role"] == "county_officer"
    assert "county_officer" not in await _roles(admin, county, "admin2")
    # Asking again answers the same request.
    assert (await _grant(admin, county, "admin2", "county_officer")).json()["id"] == request["id"]

    # The administrator the grant is for cannot approve it, nor can the one who asked.
    for client in (admin2, admin):
        refused = await client.post(f"/api/v1/admin/grant-requests/{request['id']}/approve")
        assert refused.status_code == 403, refused.text
        assert refused.json()["error"] == "SECOND_ADMINISTRATOR_REQUIRED"
    assert "county_officer" not in await _roles(admin, county, "admin2")

    listed = await admin.get("/api/v1/admin/grant-requests")
    assert [item["id"] for item in listed.json()] == [request["id"]]
    async with database.sessionmaker() as session, session.begin():
        await set_tenant(session, county.tenant.id)
        actions = (
            await session.scalars(
                select(AuditEvent.action).where(AuditEvent.entity_id == str(county.users["admin2"].id))
            )
        ).all()
    # The request is recorded; the only grant made is her administration, when she was created.
    assert "role_grant.request" in actions and actions.count("role_grant.create") == 1


async def test_a_third_administrator_approves_and_the_grant_is_made(
    county: County, sign_in: SignIn, database: Database
) -> None:
    from backend.authz.vocabulary import Role
    from tests.fixtures.identity import add_user

    await add_user(database, county, "admin3", "county", [(Role.county_admin, "county")])
    admin, admin3 = await sign_in(county, "admin"), await sign_in(county, "admin3")
    request = (await _grant(admin, county, "admin2", "auditor")).json()
    approved = await admin3.post(f"/api/v1/admin/grant-requests/{request['id']}/approve")
    assert approved.status_code == 200, approved.text
    assert approved.json()["role"] == "auditor"
    assert await _roles(admin, county, "admin2") == {"county_admin", "auditor"}
    again = await admin3.post(f"/api/v1/admin/grant-requests/{request['id']}/approve")
    assert again.status_code == 404
    assert (await admin.get("/api/v1/admin/grant-requests")).json() == []


async def test_the_platform_operator_approves_for_a_county_with_one_other_administrator(
    county: County, sign_in: SignIn, api: httpx.AsyncClient, platform_headers: dict[str, str]
) -> None:
    admin = await sign_in(county, "admin")
    request = (await _grant(admin, county, "admin2", "county_officer")).json()
    base = f"/api/v1/platform/tenants/{county.code}/grant-requests"
    listed = await api.get(base, headers=platform_headers)
    assert [item["id"] for item in listed.json()] == [request["id"]]
    approved = await api.post(f"{base}/{request['id']}/approve", headers=platform_headers)
    assert approved.status_code == 200, approved.text
    assert "county_officer" in await _roles(admin, county, "admin2")


async def test_administration_for_an_officer_waits_too_and_can_be_refused(county: County, sign_in: SignIn) -> None:
    admin, admin2 = await sign_in(county, "admin"), await sign_in(county, "admin2")
    asked = await _grant(admin, county, "officer", "county_admin")
    assert asked.status_code == 202, asked.text
    refused = await admin2.post(
        f"/api/v1/admin/grant-requests/{asked.json()['id']}/refuse", json={"reason": "不得兼任"}
    )
    assert refused.status_code == 200, refused.text
    assert refused.json()["status"] == "refused"
    assert await _roles(admin, county, "officer") == {"county_officer"}


async def test_a_role_without_personal_data_is_granted_at_once(county: County, sign_in: SignIn) -> None:
    admin = await sign_in(county, "admin")
    made = await _grant(admin, county, "t1.officer", "township_supervisor", unit="t1")
    assert made.status_code == 201, made.text


async def test_an_administrator_cannot_deactivate_herself(county: County, sign_in: SignIn) -> None:
    admin = await sign_in(county, "admin")
    me = (await admin.get(f"/api/v1/admin/users/{county.users['admin'].id}")).json()
    response = await admin.patch(f"/api/v1/admin/users/{me['id']}", json={"version": me["version"], "active": False})
    assert response.status_code == 409, response.text
    assert response.json()["error"] == "ADMINISTRATOR_REQUIRED"
    assert (await admin.get("/api/v1/auth/me")).status_code == 200


async def test_the_last_active_administrator_cannot_be_deactivated_or_lose_administration(
    county: County, sign_in: SignIn, database: Database
) -> None:
    from backend.authz.principal import Principal, ScopedRole
    from backend.authz.vocabulary import Role
    from backend.identity import service as identity
    from backend.identity.errors import AdministratorRequired
    from backend.identity.schemas import UserUpdate

    admin = await sign_in(county, "admin")
    other = (await admin.get(f"/api/v1/admin/users/{county.users['admin2'].id}")).json()
    # With two administrators, one may deactivate the other.
    done = await admin.patch(f"/api/v1/admin/users/{other['id']}", json={"version": other["version"], "active": False})
    assert done.status_code == 200, done.text
    # The one left may not drop her own administration ...
    me = (await admin.get(f"/api/v1/admin/users/{county.users['admin'].id}")).json()
    grant = next(g for g in me["grants"] if g["role"] == "county_admin")
    revoked = await admin.delete(f"/api/v1/admin/users/{me['id']}/grants/{grant['id']}")
    assert revoked.status_code == 409, revoked.text
    # ... and nobody else (an administrator who is no active user of the county, acting through the service) may
    # deactivate the last one.
    operator = Principal(
        kind="user",
        id=str(uuid.uuid4()),
        label="operator",
        tenant_id=county.tenant.id,
        tenant_code=county.code,
        org_unit_code=county.code,
        roles=(ScopedRole(Role.county_admin, county.code),),
    )
    async with database.sessionmaker() as session, session.begin():
        await set_tenant(session, county.tenant.id)
        user = await identity.get_user_in_reach(session, operator, county.users["admin"].id)
        with pytest.raises(AdministratorRequired):
            await identity.update_user(session, operator, user, UserUpdate(version=user.version, active=False))


async def test_the_admin_user_page_files_the_request_and_another_administrator_approves_it(
    county: County, sign_in: SignIn, database: Database
) -> None:
    from backend.authz.vocabulary import Role
    from tests.fixtures.identity import add_user

    await add_user(database, county, "admin3", "county", [(Role.county_admin, "county")])
    admin, admin3 = await sign_in(county, "admin"), await sign_in(county, "admin3")
    target = county.users["admin2"].id
    page = await admin.get(f"/admin/users/{target}")
    csrf = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    posted = await admin.post(
        f"/admin/users/{target}/grants",
        data={"role": "county_officer", "org_unit_code": county.code, "csrf_token": csrf},
    )
    assert posted.status_code == 303 and posted.headers["location"].endswith("?requested=1")
    shown = await admin3.get(f"/admin/users/{target}", headers={"Accept": "text/html"})
    assert "待另一位管理员批准的授权" in shown.text
    request_id = (await admin3.get("/api/v1/admin/grant-requests")).json()[0]["id"]
    csrf3 = shown.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    approved = await admin3.post(
        f"/admin/users/{target}/grant-requests/{request_id}/approve", data={"csrf_token": csrf3}
    )
    assert approved.status_code == 303, approved.text[:300]
    assert "county_officer" in await _roles(admin, county, "admin2")
