"""Two counties on the instance, officers on both sides, persons whose household registration is in the other
county, and the helpers the verification tests share."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy import select
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from backend.authz.vocabulary import Role
from backend.core.crypto import personal_data_cipher
from backend.db.engine import Database
from backend.db.tenancy import set_tenant
from backend.models import AuditEvent, FlowDirection, Person, Sex
from backend.persons.names import name_search_keys
from tests.fixtures.database import TenantFactory
from tests.fixtures.identity import County, add_user, build_county
from workflows.outbox import OutboxRelay
from workflows.outbox_handlers import case_handlers
from workflows.worker import build_case_worker

# A real county that is not a tenant in the test database (test tenants are 9xxxxx): the off-platform side.
OFF_PLATFORM_TOWNSHIP = "650102001"


@dataclass
class TwoCounties:
    a: County
    b: County


@pytest.fixture
async def counties(database: Database, tenant_factory: TenantFactory) -> TwoCounties:
    a = await build_county(database, tenant_factory, "甲县")
    b = await build_county(database, tenant_factory, "乙县")
    for county in (a, b):
        await add_user(database, county, "t1.officer", "t1", [(Role.township_officer, "t1")])
        await add_user(database, county, "t1.sup", "t1", [(Role.township_supervisor, "t1")])
        await add_user(database, county, "t2.officer", "t2", [(Role.township_officer, "t2")])
        await add_user(database, county, "v11.coord", "v11", [(Role.village_coordinator, "v11")])
        await add_user(database, county, "county.sup", "county", [(Role.county_supervisor, "county")])
    return TwoCounties(a, b)


async def add_person(
    database: Database,
    county: County,
    name: str,
    *,
    unit: str = "v11",
    registration: str | None = None,
    resident_id: str | None = None,
    sex: Sex = Sex.female,
) -> Person:
    keys = name_search_keys(name)
    cipher = personal_data_cipher()
    person = Person(
        id=uuid.uuid4(),
        tenant_id=county.tenant.id,
        name=name,
        name_pinyin=keys.pinyin,
        name_initials=keys.initials,
        sex=sex,
        ethnicity="汉族",
        org_unit_code=county.units.get(unit, unit),
        flow_direction=FlowDirection.inflow,
        key_subject=False,
        registration_division_code=registration,
        resident_id_ciphertext=cipher.encrypt(resident_id, context="person.resident_id") if resident_id else None,
        resident_id_hash=cipher.lookup_hash(resident_id, context="person.resident_id") if resident_id else None,
    )
    async with database.sessionmaker() as session, session.begin():
        await set_tenant(session, county.tenant.id)
        session.add(person)
    return person


async def open_first_child_case(
    client: httpx.AsyncClient, county: County, persons: list[Person], received_at: str = "2026-02-10T09:00:00+08:00"
) -> dict[str, object]:
    parts = ["applicant", "spouse"]
    response = await client.post(
        "/api/v1/cases",
        json={
            "case_type": "first_child_registration",
            "org_unit_code": county.units["v11"],
            "subjects": [{"person_id": str(p.id), "part": parts[i]} for i, p in enumerate(persons)],
            "received_at": received_at,
            "details": {"materials": ["id_card", "spouse_id_card", "marriage_certificate", "status_certificate"]},
        },
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


async def audit_actions(database: Database, county: County, correlation_id: str) -> list[str]:
    """The actions in one county's audit log carrying the correlation id, in order."""
    async with database.sessionmaker() as session, session.begin():
        await set_tenant(session, county.tenant.id)
        rows = await session.execute(
            select(AuditEvent.action)
            .where(AuditEvent.tenant_id == county.tenant.id, AuditEvent.correlation_id == correlation_id)
            .order_by(AuditEvent.seq)
        )
        return list(rows.scalars().all())


class CaseWork:
    """The case workflows for real: a case worker on the test Temporal server and the outbox relay, drained on
    demand for the counties of a test (other tests' counties share the database). Stages move only this way."""

    def __init__(self, client: Client, relay: OutboxRelay) -> None:
        self.client = client
        self.relay = relay

    async def drain(self, *tenant_ids: uuid.UUID) -> None:
        for tenant_id in tenant_ids:
            while await self.relay.process_county(tenant_id):
                pass

    async def act(
        self, officer: httpx.AsyncClient, county: County, case_id: object, action: str, **fields: object
    ) -> dict[str, object]:
        """Take a human action on the case through the API and let the workflow apply it; the case after it."""
        await self.drain(county.tenant.id)  # the case's workflow is started first
        for _ in range(100):
            # The workflow's first activity stores the stage's start on the case (a new version) on its own time:
            # like an officer, read the case again when the version moved under the form.
            version = (await officer.get(f"/api/v1/cases/{case_id}")).json()["version"]
            response = await officer.post(
                f"/api/v1/cases/{case_id}/actions", json={"version": version, "action": action, **fields}
            )
            if response.status_code != 409:
                break
            await asyncio.sleep(0.1)
        assert response.status_code == 202, response.text
        await self.drain(county.tenant.id)
        status = (await officer.get(f"/api/v1/cases/{case_id}/actions/{response.json()['request_id']}")).json()
        assert status["status"] == "done", status
        return dict((await officer.get(f"/api/v1/cases/{case_id}")).json())


@pytest.fixture
async def casework(database: Database, temporal_address: str) -> AsyncIterator[CaseWork]:
    client = await Client.connect(temporal_address, data_converter=pydantic_data_converter)
    async with build_case_worker(client, database):
        yield CaseWork(client, OutboxRelay(database, case_handlers(client)))
