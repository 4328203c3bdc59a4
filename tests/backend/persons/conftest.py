"""Two counties with users at every level, shared by the registry tests of one session.

Users are expensive to make (argon2), persons are not: tests share the counties and make their own persons
with unique ID numbers, and assert on their own records only.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from backend.authz.vocabulary import Role
from backend.db.engine import Database
from backend.tenants.schemas import TenantCreate
from tests.fixtures.database import unique_county_code
from tests.fixtures.identity import County, add_user, build_county


@dataclass
class Registry:
    county: County
    other: County


@pytest.fixture(scope="session")
async def registry(database: Database) -> Registry:
    from backend.tenants.service import provision_tenant

    async def factory(name: str = "县", code: str | None = None):
        async with database.sessionmaker() as session, session.begin():
            return await provision_tenant(session, TenantCreate(code=code or unique_county_code(), name=name))

    county = await build_county(database, factory, "登记县")
    other = await build_county(database, factory, "他县")
    for username, unit, grants in (
        ("officer", "t1", [(Role.township_officer, "t1")]),
        ("officer2", "t2", [(Role.township_officer, "t2")]),
        ("supervisor", "t1", [(Role.township_supervisor, "t1")]),
        ("coord11", "v11", [(Role.village_coordinator, "v11")]),
        ("coord12", "v12", [(Role.village_coordinator, "v12")]),
        ("county_officer", "county", [(Role.county_officer, "county")]),
        # The county supervisor: the one who may undo a merge.
        ("county_supervisor", "county", [(Role.county_supervisor, "county")]),
        ("admin", "county", [(Role.county_admin, "county")]),
        ("auditor", "county", [(Role.auditor, "county")]),
    ):
        await add_user(database, county, username, unit, grants)
    await add_user(database, other, "officer", "t1", [(Role.township_officer, "t1")])
    await add_user(database, other, "county_officer", "county", [(Role.county_officer, "county")])
    return Registry(county=county, other=other)


@pytest.fixture
def county(registry: Registry) -> County:
    return registry.county


@pytest.fixture
def other(registry: Registry) -> County:
    return registry.other
