"""A county with the people around a complaint: two officers of one township, its supervisor, the county supervisor,
an officer of a sibling township, an auditor."""

from __future__ import annotations

import pytest

from backend.authz.vocabulary import Role
from backend.db.engine import Database
from tests.fixtures.database import TenantFactory
from tests.fixtures.identity import County, add_user, build_county


@pytest.fixture
async def county(database: Database, tenant_factory: TenantFactory) -> County:
    county = await build_county(database, tenant_factory, "维权县")
    await add_user(database, county, "t1.officer", "t1", [(Role.township_officer, "t1")])
    await add_user(database, county, "t1.colleague", "t1", [(Role.township_officer, "t1")])
    await add_user(database, county, "t1.sup", "t1", [(Role.township_supervisor, "t1")])
    await add_user(database, county, "t2.officer", "t2", [(Role.township_officer, "t2")])
    await add_user(database, county, "county.sup", "county", [(Role.county_supervisor, "county")])
    await add_user(database, county, "auditor", "county", [(Role.auditor, "county")])
    return county
