"""A county for the probes of issue #16: an officer, a township officer and supervisor, two county administrators
and an auditor, one registered person and one case; each test that changes users builds its own county."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from backend.authz.vocabulary import Role
from backend.db.engine import Database
from backend.tenants.schemas import TenantCreate
from tests.backend.persons.factories import make_id, person_body
from tests.fixtures.database import unique_county_code
from tests.fixtures.identity import County, SignIn, add_user, build_county

USERS: tuple[tuple[str, str, list[tuple[Role, str]]], ...] = (
    ("officer", "county", [(Role.county_officer, "county")]),
    ("t1.officer", "t1", [(Role.township_officer, "t1")]),
    ("t1.supervisor", "t1", [(Role.township_supervisor, "t1")]),
    ("admin", "county", [(Role.county_admin, "county")]),
    ("admin2", "county", [(Role.county_admin, "county")]),
    ("auditor", "county", [(Role.auditor, "county")]),
)


async def probe_county(database: Database, name: str = "探测县") -> County:
    from backend.tenants.service import provision_tenant

    async def factory(name: str = "县", code: str | None = None):  # type: ignore[no-untyped-def]
        async with database.sessionmaker() as session, session.begin():
            return await provision_tenant(session, TenantCreate(code=code or unique_county_code(), name=name))

    county = await build_county(database, factory, name)
    for username, unit, grants in USERS:
        await add_user(database, county, username, unit, grants)
    return county


@dataclass
class Probe:
    """The shared county, with one person and one case registered by the officer."""

    county: County
    person: dict[str, Any]
    case: dict[str, Any]


@pytest.fixture(scope="session")
async def probe(database: Database, app: Any) -> Probe:
    county = await probe_county(database)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as officer:
        signed = await officer.post(
            "/api/v1/auth/session",
            json={"tenant_code": county.code, "username": "officer", "password": "Correct-horse-2026"},
        )
        officer.headers["X-CSRF-Token"] = signed.json()["csrf_token"]
        person = await officer.post("/api/v1/persons", json=person_body(county, resident_id=make_id(sex="female")))
        assert person.status_code == 201, person.text
        case = await officer.post(
            "/api/v1/cases",
            json={
                "case_type": "inflow_registration",
                "org_unit_code": county.units["v11"],
                "title": "探测案件 100%_\\ 字样",
                "subjects": [{"person_id": person.json()["id"], "part": "subject"}],
            },
        )
        assert case.status_code == 201, case.text
    return Probe(county=county, person=person.json(), case=case.json())


@pytest.fixture
async def officer(probe: Probe, sign_in: SignIn) -> httpx.AsyncClient:
    return await sign_in(probe.county, "officer")


@pytest.fixture
async def admin(probe: Probe, sign_in: SignIn) -> httpx.AsyncClient:
    return await sign_in(probe.county, "admin")


@pytest.fixture
async def auditor(probe: Probe, sign_in: SignIn) -> httpx.AsyncClient:
    return await sign_in(probe.county, "auditor")
