"""Two counties with users at every level, and the scripted county of scenario.py."""

from __future__ import annotations

import pytest

from backend.authz.vocabulary import Role
from backend.db.engine import Database
from tests.backend.reports.scenario import Scripted, build
from tests.fixtures.database import TenantFactory
from tests.fixtures.identity import County, add_user, build_county


async def staffed_county(database: Database, tenant_factory: TenantFactory, name: str) -> County:
    county = await build_county(database, tenant_factory, name)
    await add_user(database, county, "v11.coord", "v11", [(Role.village_coordinator, "v11")])
    await add_user(database, county, "t1.officer", "t1", [(Role.township_officer, "t1")])
    await add_user(database, county, "t1.sup", "t1", [(Role.township_supervisor, "t1")])
    await add_user(database, county, "county.officer", "county", [(Role.county_officer, "county")])
    await add_user(database, county, "county.sup", "county", [(Role.county_supervisor, "county")])
    await add_user(database, county, "auditor", "county", [(Role.auditor, "county")])
    await add_user(database, county, "admin", "county", [(Role.county_admin, "county")])
    return county


@pytest.fixture
async def scripted(database: Database, tenant_factory: TenantFactory) -> Scripted:
    a = await staffed_county(database, tenant_factory, "甲县")
    b = await staffed_county(database, tenant_factory, "乙县")
    return await build(database, a, b)
