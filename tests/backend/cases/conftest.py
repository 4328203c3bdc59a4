"""Persons for case tests, written straight to the database (the registry's API is tested on its own)."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

import pytest

from backend.core.crypto import personal_data_cipher
from backend.db.engine import Database
from backend.db.tenancy import set_tenant
from backend.models import FlowDirection, Person, Sex
from backend.persons.names import name_search_keys
from tests.fixtures.identity import County

AddPerson = Callable[..., Awaitable[Person]]


@pytest.fixture
def add_person(database: Database) -> AddPerson:
    async def add(county: County, name: str, unit: str = "v11", *, resident_id: str | None = None) -> Person:
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
            resident_id_ciphertext=cipher.encrypt(resident_id, context="person.resident_id") if resident_id else None,
            resident_id_hash=cipher.lookup_hash(resident_id, context="person.resident_id") if resident_id else None,
        )
        async with database.sessionmaker() as session, session.begin():
            await set_tenant(session, county.tenant.id)
            session.add(person)
        return person

    return add
