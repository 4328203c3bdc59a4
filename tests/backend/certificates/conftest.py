"""Counties, persons and helpers for certificate tests.

Persons are written straight to the database (the registry's own API is tested on its own); identifiers stay
NULL, so nothing needs encrypting. Certificates are then issued and read through the HTTP API.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from typing import Any

import httpx
import pytest

from backend.authz.vocabulary import Role
from backend.calendar.service import china_today
from backend.db.engine import Database
from backend.db.tenancy import set_tenant
from backend.models import ContraceptionMeasure, FlowDirection, Person, Sex
from tests.fixtures.database import TenantFactory
from tests.fixtures.identity import County, add_user, build_county

AddPerson = Callable[..., Awaitable[Person]]


@pytest.fixture
async def county(database: Database, tenant_factory: TenantFactory) -> County:
    """Township officer of t1, village coordinators of v11 and v12, an auditor."""
    county = await build_county(database, tenant_factory)
    await add_user(database, county, "officer", "t1", [(Role.township_officer, "t1")])
    await add_user(database, county, "coord11", "v11", [(Role.village_coordinator, "v11")])
    await add_user(database, county, "coord12", "v12", [(Role.village_coordinator, "v12")])
    await add_user(database, county, "auditor", "county", [(Role.auditor, "county")])
    return county


@pytest.fixture
async def other(database: Database, tenant_factory: TenantFactory) -> County:
    other = await build_county(database, tenant_factory, "他县")
    await add_user(database, other, "officer", "t1", [(Role.township_officer, "t1")])
    await add_user(database, other, "county_officer", "county", [(Role.county_officer, "county")])
    return other


@pytest.fixture
def add_person(database: Database) -> AddPerson:
    async def add(
        county: County,
        name: str = "李梅",
        unit: str = "v11",
        *,
        contraception: ContraceptionMeasure | None = None,
        flow: FlowDirection = FlowDirection.inflow,
    ) -> Person:
        person = Person(
            id=uuid.uuid4(),
            tenant_id=county.tenant.id,
            name=name,
            name_pinyin="li mei",
            name_initials="lm",
            sex=Sex.female,
            ethnicity="汉族",
            org_unit_code=county.units.get(unit, unit),
            flow_direction=flow,
            contraception_measure=contraception,
            key_subject=False,
        )
        async with database.sessionmaker() as session, session.begin():
            await set_tenant(session, county.tenant.id)
            session.add(person)
        return person

    return add


def years_before(day: date, years: int) -> date:
    """The same calendar day `years` earlier (28 February for a 29 February that does not exist)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def issued_to_expire_in(days: int) -> date:
    """An issue date whose three-year validity ends `days` from today (China time)."""
    return years_before(china_today() + timedelta(days=days), 3)


async def issue(
    client: httpx.AsyncClient, county: County, person: Person | uuid.UUID | str, **overrides: Any
) -> httpx.Response:
    """POST a certificate for `person` (a row or an id), issued today by township t1 unless overridden."""
    person_id = person.id if isinstance(person, Person) else person
    body: dict[str, Any] = {
        "number": f"HY{uuid.uuid4().hex[:10]}",
        "issue_date": china_today().isoformat(),
        "issuing_unit_code": county.units["t1"],
        **overrides,
    }
    body = {key: value.isoformat() if isinstance(value, date) else value for key, value in body.items()}
    return await client.post(f"/api/v1/persons/{person_id}/certificates", json=body)


def field_names(response: httpx.Response) -> list[str]:
    """The dotted locations the error names, without the leading 'body'."""
    return [".".join(str(part) for part in field["loc"] if part != "body") for field in response.json()["fields"]]
