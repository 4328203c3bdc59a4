"""The division directory: a division code lands on its county tenant and township, or off the platform."""

from __future__ import annotations

from backend.db.engine import Database
from backend.tenants.directory import route_division
from tests.fixtures.database import TenantFactory
from tests.fixtures.identity import build_county


async def test_a_village_code_lands_on_its_county_and_township(
    database: Database, tenant_factory: TenantFactory
) -> None:
    county = await build_county(database, tenant_factory)

    route = await route_division(database, county.units["v21"])

    assert route.on_platform
    assert route.tenant_id == county.tenant.id
    assert route.township_code == county.units["t2"]
    assert route.township_name == "二街道"
    assert route.township_unit_id is not None


async def test_a_county_code_has_no_township(database: Database, tenant_factory: TenantFactory) -> None:
    county = await build_county(database, tenant_factory)

    route = await route_division(database, county.code)

    assert route.tenant_id == county.tenant.id
    assert route.township_code is None and route.township_unit_id is None


async def test_an_unknown_township_of_a_known_county_keeps_the_county(
    database: Database, tenant_factory: TenantFactory
) -> None:
    county = await build_county(database, tenant_factory)

    route = await route_division(database, county.code + "099")

    assert route.tenant_id == county.tenant.id
    assert route.township_code == county.code + "099"
    assert route.township_unit_id is None


async def test_a_county_not_on_this_instance_is_off_platform(database: Database) -> None:
    route = await route_division(database, "110101001001")

    assert not route.on_platform
    assert route.county_code == "110101"
    assert route.township_code == "110101001"
