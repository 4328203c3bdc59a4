"""A signed-in user's principal is read with her session in one round trip on every request (issue #20), and the
Casbin enforcer and its decisions are shared by the requests of the same grants: a grant given or revoked
counts from the very next request of a session that is already open, and the one-statement principal is the
one `principal_for_user` builds."""

from __future__ import annotations

import pytest
from fastapi import FastAPI

from backend.authz.vocabulary import Role
from backend.core.clock import utc_now
from backend.db.engine import Database
from backend.db.tenancy import set_tenant
from backend.identity.repository import IdentityRepository
from backend.identity.service import principal_for_user, signed_in_principal
from tests.fixtures.database import TenantFactory
from tests.fixtures.identity import County, SignIn, add_user, build_county


@pytest.fixture
async def county(database: Database, tenant_factory: TenantFactory) -> County:
    county = await build_county(database, tenant_factory)
    await add_user(database, county, "admin", "county", [(Role.county_admin, "county")])
    await add_user(database, county, "zhou", "t1", [(Role.township_officer, "t1")])
    return county


async def test_a_grant_given_or_revoked_counts_from_the_next_request(county: County, sign_in: SignIn) -> None:
    admin = await sign_in(county, "admin")
    officer = await sign_in(county, "zhou")
    t2 = county.units["t2"]
    user_id = county.users["zhou"].id
    assert (await officer.get(f"/api/v1/org-units/{t2}")).status_code == 404
    assert (await officer.get(f"/api/v1/org-units/{county.units['t1']}")).status_code == 200

    granted = await admin.post(
        f"/api/v1/admin/users/{user_id}/grants", json={"role": "township_officer", "org_unit_code": t2}
    )
    assert granted.status_code == 201, granted.text
    assert (await officer.get(f"/api/v1/org-units/{t2}")).status_code == 200

    revoked = await admin.delete(f"/api/v1/admin/users/{user_id}/grants/{granted.json()['id']}")
    assert revoked.status_code in (200, 204), revoked.text
    assert (await officer.get(f"/api/v1/org-units/{t2}")).status_code == 404
    # The grant she kept still works: the shared decisions of the old grant set are not hers any more.
    assert (await officer.get(f"/api/v1/org-units/{county.units['t1']}")).status_code == 200


async def test_revoking_the_only_write_grant_refuses_the_next_write(county: County, sign_in: SignIn) -> None:
    admin = await sign_in(county, "admin")
    officer = await sign_in(county, "zhou")
    body = {"case_type": "inflow_registration", "org_unit_code": county.units["v11"]}
    assert (await officer.post("/api/v1/cases", json=body)).status_code == 201
    user_id = county.users["zhou"].id
    grants = (await admin.get(f"/api/v1/admin/users/{user_id}")).json()["grants"]
    for grant in grants:
        await admin.delete(f"/api/v1/admin/users/{user_id}/grants/{grant['id']}")
    refused = await officer.post("/api/v1/cases", json=body)
    assert refused.status_code == 403, refused.text


async def test_the_one_statement_principal_is_the_one_principal_for_user_builds(
    county: County, database: Database, sign_in: SignIn, app: FastAPI
) -> None:
    admin = await sign_in(county, "admin")
    user_id = county.users["zhou"].id
    for role, unit in (("township_supervisor", "t2"), ("township_officer", "t2")):
        response = await admin.post(
            f"/api/v1/admin/users/{user_id}/grants", json={"role": role, "org_unit_code": county.units[unit]}
        )
        assert response.status_code == 201, response.text
    await sign_in(county, "zhou")
    async with database.sessionmaker() as session, session.begin():
        await set_tenant(session, county.tenant.id)
        repository = IdentityRepository(session)
        (user_session,) = await repository.open_sessions(user_id)
        user = await repository.user_by_id(user_id)
        assert user is not None
        expected = await principal_for_user(session, user, user_session, county.code)
        # The cookie's secret is not stored: look the session up by its digest, as the cookie path does.
        loaded = await repository.signed_in(user_session.token_hash, utc_now())
        assert loaded is not None
        assert (loaded.user.id, loaded.user_session.id, loaded.tenant_code) == (user_id, user_session.id, county.code)
        assert [(role, unit) for role, unit in loaded.grants] == [(r.role, r.org_unit_code) for r in expected.roles]
        assert len(expected.roles) == 3
        assert await signed_in_principal(session, app.state.settings, "not-a-secret") is None
