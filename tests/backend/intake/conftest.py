"""Counties, department clients with tokens, persons and notification bodies for the intake tests."""

from __future__ import annotations

import itertools
import random
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from backend.authz.vocabulary import Role
from backend.core.crypto import personal_data_cipher
from backend.db.engine import Database
from backend.db.tenancy import set_tenant
from backend.intake.routing import IntakeRouter, RouterSettings
from backend.models import FlowDirection, Person, Sex
from backend.persons.names import name_search_keys
from backend.persons.resident_id import check_character
from tests.backend.intake.callbacks import callbacks_to_this_machine, receiver
from tests.fixtures.database import TenantFactory
from tests.fixtures.identity import County, SignIn, add_user, build_county

__all__ = ["callbacks_to_this_machine", "receiver"]

_sequence = itertools.count(random.randint(0, 500))


def new_resident_id(sex: str = "female") -> str:
    """A valid ID number, unique within the test run (region 330106, a 1990s birth date)."""
    serial = next(_sequence)
    day = 1 + serial % 28
    month = 1 + (serial // 28) % 12
    year = 1980 + (serial // 336) % 20
    order = 100 + random.randint(0, 399) * 2 + (1 if sex == "male" else 0)
    first = f"330106{year:04d}{month:02d}{day:02d}{order:03d}"
    return first + check_character(first)


def residence(county_code: str, township: str = "001", **overrides: Any) -> dict[str, Any]:
    body = {
        "transaction_id": f"PS-{uuid.uuid4().hex[:16]}",
        "type": "residence_registered",
        "schema_version": 1,
        "source_record_id": "ZZDJ-0001",
        "issuing_office": "某某派出所",
        "address": "某某路1号",
        "person": {"resident_id": new_resident_id(), "name": "王芳"},
        "residence_division_code": f"{county_code}{township}001",
        "registered_on": "2026-11-01",
    }
    body.update(overrides)
    return body


def birth(county_code: str, mother_id: str | None = None, **overrides: Any) -> dict[str, Any]:
    body = {
        "transaction_id": f"WJ-{uuid.uuid4().hex[:16]}",
        "type": "birth_reported",
        "schema_version": 1,
        "source_record_id": "CSYXZM-1",
        "issuing_office": "某某妇幼保健院",
        "address": "某某路2号",
        "mother": {"resident_id": mother_id or new_resident_id(), "name": "李娟"},
        "child_sex": "female",
        "birth_date": "2026-11-10",
        "birth_certificate_number": "Q1",
        "residence_division_code": f"{county_code}001001",
    }
    body.update(overrides)
    return body


@dataclass
class DepartmentClient:
    client_id: str
    http: httpx.AsyncClient


MakeClient = Callable[..., Awaitable[DepartmentClient]]


@pytest.fixture
async def county(database: Database, tenant_factory: TenantFactory) -> County:
    county = await build_county(database, tenant_factory)
    await add_user(database, county, "admin", "county", [(Role.county_admin, "county")])
    await add_user(database, county, "officer", "t1", [(Role.township_officer, "t1")])
    return county


@pytest.fixture
async def make_client(app: FastAPI, county: County, sign_in: SignIn) -> AsyncIterator[MakeClient]:
    """A department client registered by the county admin, holding a bearer token."""
    opened: list[httpx.AsyncClient] = []
    admin = await sign_in(county, "admin")

    async def make(department: str = "police", scopes: list[str] | None = None) -> DepartmentClient:
        scopes = scopes or [f"intake:{department}", "intake:read_status"]
        created = await admin.post(
            "/api/v1/admin/api-clients",
            json={"name": f"{department} system", "department": department, "scopes": scopes},
        )
        assert created.status_code == 201, created.text
        body = created.json()
        http = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app, raise_app_exceptions=False), base_url="http://testserver"
        )
        opened.append(http)
        token = await http.post(
            "/api/v1/oauth/token",
            data={
                "grant_type": "client_credentials",
                "client_id": body["client_id"],
                "client_secret": body["client_secret"],
            },
        )
        assert token.status_code == 200, token.text
        http.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
        return DepartmentClient(body["client_id"], http)

    yield make
    for http in opened:
        await http.aclose()


AddPerson = Callable[..., Awaitable[Person]]


@pytest.fixture
def add_person(database: Database) -> AddPerson:
    async def add(county: County, name: str, resident_id: str, unit: str = "v11") -> Person:
        keys = name_search_keys(name)
        cipher = personal_data_cipher()
        person = Person(
            id=uuid.uuid4(),
            tenant_id=county.tenant.id,
            name=name,
            name_pinyin=keys.pinyin,
            name_initials=keys.initials,
            sex=Sex.female,
            ethnicity="汉族",
            org_unit_code=county.units.get(unit, unit),
            flow_direction=FlowDirection.inflow,
            key_subject=False,
            resident_id_ciphertext=cipher.encrypt(resident_id, context="person.resident_id"),
            resident_id_hash=cipher.lookup_hash(resident_id, context="person.resident_id"),
        )
        async with database.sessionmaker() as session, session.begin():
            await set_tenant(session, county.tenant.id)
            session.add(person)
        return person

    return add


@pytest.fixture
def router(database: Database) -> IntakeRouter:
    return IntakeRouter(database, RouterSettings(batch_size=200))
