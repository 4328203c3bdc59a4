"""Persons, certificates and cases for register tests, written straight to the database (their own APIs are
tested on their own), and the county with the users the register tests sign in as."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, date, datetime
from typing import Any

import pytest

from backend.authz.vocabulary import Role
from backend.core.crypto import personal_data_cipher
from backend.db.engine import Database
from backend.db.tenancy import set_tenant
from backend.models import (
    Case,
    CaseOutcome,
    CasePriority,
    CaseStage,
    CaseStatus,
    CaseSubject,
    Certificate,
    CertificateInspection,
    CertificateStatus,
    FlowDirection,
    Person,
    PersonChild,
    Sex,
)
from backend.persons.names import name_search_keys
from tests.fixtures.database import TenantFactory
from tests.fixtures.identity import County, add_user, build_county

AddPerson = Callable[..., Awaitable[Person]]
AddCertificate = Callable[..., Awaitable[Certificate]]
AddCase = Callable[..., Awaitable[Case]]


@pytest.fixture
async def county(database: Database, tenant_factory: TenantFactory) -> County:
    """The test county with: a village coordinator (no full identifiers), a township officer (full
    identifiers), an auditor (reads everything, exports nothing), and a user who is an officer in t1 but only a
    coordinator in v21 (identifiers in full for some rows and not others)."""
    county = await build_county(database, tenant_factory)
    await add_user(database, county, "v11.coord", "v11", [(Role.village_coordinator, "v11")])
    await add_user(database, county, "t1.officer", "t1", [(Role.township_officer, "t1")])
    await add_user(database, county, "auditor", "county", [(Role.auditor, "county")])
    await add_user(database, county, "mixed", "t1", [(Role.township_officer, "t1"), (Role.village_coordinator, "v21")])
    return county


async def _write(database: Database, county: County, rows: Sequence[object]) -> None:
    async with database.sessionmaker() as session, session.begin():
        await set_tenant(session, county.tenant.id)
        for row in rows:
            session.add(row)
            await session.flush()


@pytest.fixture
def add_person(database: Database) -> AddPerson:
    async def add(
        county: County,
        name: str,
        unit: str = "v11",
        *,
        resident_id: str | None = None,
        phone: str | None = None,
        direction: FlowDirection = FlowDirection.inflow,
        children: int = 0,
        **fields: Any,
    ) -> Person:
        keys = name_search_keys(name)
        cipher = personal_data_cipher()
        person = Person(
            id=uuid.uuid4(),
            tenant_id=county.tenant.id,
            name=name,
            name_pinyin=keys.pinyin,
            name_initials=keys.initials,
            sex=fields.pop("sex", Sex.female),
            ethnicity="汉族",
            org_unit_code=county.units.get(unit, unit),
            flow_direction=direction,
            key_subject=False,
            resident_id_ciphertext=cipher.encrypt(resident_id, context="person.resident_id") if resident_id else None,
            resident_id_hash=cipher.lookup_hash(resident_id, context="person.resident_id") if resident_id else None,
            phone_ciphertext=cipher.encrypt(phone, context="person.phone") if phone else None,
            phone_hash=cipher.lookup_hash(phone, context="person.phone") if phone else None,
            **fields,
        )
        kids = [
            PersonChild(
                id=uuid.uuid4(),
                tenant_id=county.tenant.id,
                person_id=person.id,
                birth_order=order,
                birth_date=date(2015 + order, 1, 1),
                sex=Sex.male,
            )
            for order in range(1, children + 1)
        ]
        await _write(database, county, [person, *kids])
        return person

    return add


@pytest.fixture
def add_certificate(database: Database) -> AddCertificate:
    async def add(
        county: County,
        person: Person,
        number: str,
        *,
        issue_date: date,
        unit: str = "v11",
        status: CertificateStatus = CertificateStatus.valid,
        inspected_on: Sequence[date] = (),
        **fields: Any,
    ) -> Certificate:
        certificate = Certificate(
            id=uuid.uuid4(),
            tenant_id=county.tenant.id,
            person_id=person.id,
            number=number,
            issue_date=issue_date,
            issuing_unit_code=county.units["t1"],
            issuing_unit_name=fields.pop("issuing_unit_name", "一镇计生办"),
            permanent=fields.pop("permanent", False),
            valid_until=fields.pop("valid_until", date(issue_date.year + 3, issue_date.month, issue_date.day)),
            status=status,
            issued_by_proxy=fields.pop("issued_by_proxy", False),
            org_unit_code=county.units.get(unit, unit),
            **fields,
        )
        inspections = [
            CertificateInspection(
                id=uuid.uuid4(),
                tenant_id=county.tenant.id,
                certificate_id=certificate.id,
                inspected_on=day,
                inspector_name="查验员",
                org_unit_code=certificate.org_unit_code,
                result="valid",
            )
            for day in inspected_on
        ]
        await _write(database, county, [certificate, *inspections])
        return certificate

    return add


@pytest.fixture
def add_case(database: Database) -> AddCase:
    async def add(
        county: County,
        case_type: str,
        person: Person | None,
        number: str,
        *,
        received_at: datetime,
        unit: str = "v11",
        others: Sequence[tuple[Person, str]] = (),
        details: dict[str, Any] | None = None,
        stage: CaseStage = CaseStage.registration,
        outcome: CaseOutcome | None = None,
        outcome_reason: str | None = None,
        closed_at: datetime | None = None,
    ) -> Case:
        case = Case(
            id=uuid.uuid4(),
            tenant_id=county.tenant.id,
            number=number,
            case_type=case_type,
            title=case_type,
            org_unit_code=county.units.get(unit, unit),
            stage=stage,
            status=CaseStatus.done if stage is CaseStage.closed else CaseStatus.open,
            priority=CasePriority.normal,
            primary_person_id=person.id if person else None,
            subject_name=person.name if person else "",
            subject_pinyin=person.name_pinyin if person else "",
            received_at=received_at.astimezone(UTC),
            closed_at=closed_at,
            outcome=outcome,
            outcome_reason=outcome_reason,
            details=details or {},
            created_by="fixture",
        )
        subjects = [(person, "applicant")] if person else []
        rows: list[object] = [case]
        rows += [
            CaseSubject(id=uuid.uuid4(), tenant_id=county.tenant.id, case_id=case.id, person_id=subject.id, part=part)
            for subject, part in [*subjects, *others]
        ]
        await _write(database, county, rows)
        return case

    return add
