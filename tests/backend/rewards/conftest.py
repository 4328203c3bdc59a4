"""A county with the people of a reward chain (investigator, two reviewers, a signer), couples in its registry, and
the case workflows run for real (the verification tests' `casework`)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date

import pytest

from backend.authz.vocabulary import Role
from backend.db.engine import Database
from backend.db.tenancy import set_tenant
from backend.models import ContraceptionMeasure, FlowDirection, MaritalStatus, Person, PersonChild, Sex
from backend.persons.names import name_search_keys
from tests.backend.verification.conftest import CaseWork, casework  # noqa: F401  (the fixture)
from tests.fixtures.database import TenantFactory
from tests.fixtures.identity import County, add_user, build_county

__all__ = ["CaseWork", "add_couple", "add_resident"]


@pytest.fixture
async def county(database: Database, tenant_factory: TenantFactory) -> County:
    county = await build_county(database, tenant_factory, "奖扶县")
    await add_user(database, county, "v11.coord", "v11", [(Role.village_coordinator, "v11")])
    await add_user(database, county, "t1.officer", "t1", [(Role.township_officer, "t1")])
    await add_user(database, county, "t1.sup", "t1", [(Role.township_supervisor, "t1")])
    await add_user(database, county, "t2.sup", "t2", [(Role.township_supervisor, "t2")])
    await add_user(database, county, "county.sup", "county", [(Role.county_supervisor, "county")])
    await add_user(database, county, "county.admin", "county", [(Role.county_admin, "county")])
    return county


async def add_resident(
    database: Database,
    county: County,
    name: str,
    *,
    sex: Sex,
    born: date,
    unit: str = "v11",
    marital: MaritalStatus | None = MaritalStatus.first_marriage,
    measure: ContraceptionMeasure | None = None,
    children: Sequence[Sex] = (),
    spouse: Person | None = None,
) -> Person:
    """A person of the county's registry (an outflow resident: registered here) with her children."""
    keys = name_search_keys(name)
    person = Person(
        id=uuid.uuid4(),
        tenant_id=county.tenant.id,
        name=name,
        name_pinyin=keys.pinyin,
        name_initials=keys.initials,
        sex=sex,
        ethnicity="汉族",
        birth_date=born,
        org_unit_code=county.units.get(unit, unit),
        flow_direction=FlowDirection.outflow,
        key_subject=False,
        registration_division_code=county.units.get(unit, unit),
        marital_status=marital,
        contraception_measure=measure,
        spouse_id=spouse.id if spouse else None,
    )
    async with database.sessionmaker() as session, session.begin():
        await set_tenant(session, county.tenant.id)
        session.add(person)
        await session.flush()
        for order, child_sex in enumerate(children, start=1):
            session.add(
                PersonChild(
                    id=uuid.uuid4(),
                    tenant_id=county.tenant.id,
                    person_id=person.id,
                    birth_order=order,
                    birth_date=date(1995 + order, 3, 1),
                    sex=child_sex,
                )
            )
    return person


async def add_couple(
    database: Database,
    county: County,
    *,
    children: Sequence[Sex] = (Sex.female,),
    born: date = date(1960, 5, 1),
    measure: ContraceptionMeasure | None = None,
) -> tuple[Person, Person]:
    """A married couple of village v11: the wife (with the children on her record) and the husband."""
    husband = await add_resident(database, county, "张建国", sex=Sex.male, born=born)
    wife = await add_resident(
        database, county, "李秀兰", sex=Sex.female, born=born, measure=measure, children=children, spouse=husband
    )
    return wife, husband
