"""A county whose village entries go through the township (三级把关), with the people around one village: its
coordinator, the township's officer and supervisor, a sibling township's officer, the administrator."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from backend.authz.vocabulary import Role
from backend.db.engine import Database
from tests.fixtures.database import TenantFactory
from tests.fixtures.identity import County, add_user, build_county


@pytest.fixture
async def county(database: Database, tenant_factory: TenantFactory) -> County:
    county = await build_county(database, tenant_factory, "审核县")
    await add_user(database, county, "v11.coord", "v11", [(Role.village_coordinator, "v11")])
    await add_user(database, county, "t1.officer", "t1", [(Role.township_officer, "t1")])
    await add_user(database, county, "t1.sup", "t1", [(Role.township_supervisor, "t1")])
    await add_user(database, county, "t2.officer", "t2", [(Role.township_officer, "t2")])
    await add_user(database, county, "county.admin", "county", [(Role.county_admin, "county")])
    return county


async def require_confirmation(admin: httpx.AsyncClient, on: bool = True) -> None:
    """The administrator turns the county's rule on (or off)."""
    current = (await admin.get("/api/v1/county-settings")).json()
    body: dict[str, Any] = {**current, "village_entries_need_confirmation": on}
    response = await admin.put("/api/v1/county-settings", json=body)
    assert response.status_code == 200, response.text
