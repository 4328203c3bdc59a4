"""Counties with a registry written straight to the database, and the follow-up sweep run on the time-skipping
test server with the real activities (the registry's and the certificates' own APIs are tested elsewhere)."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from backend.db.engine import Database
from backend.db.tenancy import set_tenant
from backend.followups.rules import RULES_CONFIG_CODE, add_years
from backend.models import (
    Case,
    CaseTypeConfig,
    Certificate,
    CertificateInspection,
    CertificateStatus,
    InspectionResult,
    OrgUnit,
    OutboxMessage,
    Person,
    PersonChild,
    Sex,
)
from tests.fixtures.database import TenantFactory
from tests.fixtures.identity import County, build_county
from tests.fixtures.village import add_rows, person_row
from workflows.followups import FOLLOWUP_WORKFLOWS, followup_activities
from workflows.followups.types import FollowUpSweepInput, FollowUpSweepResult
from workflows.followups.workflows import FollowUpSweepWorkflow

_numbers = itertools.count(1)
RUN_TIMEOUT = timedelta(hours=1)


@dataclass
class Registry:
    """Writes registry rows for the tests' counties and reads back the cases the sweep opened."""

    database: Database
    counties: list[County] = field(default_factory=list)

    async def county(self, tenant_factory: TenantFactory, name: str = "随访县") -> County:
        county = await build_county(self.database, tenant_factory, name)
        self.counties.append(county)
        return county

    async def _add(self, county: County, *rows: Any) -> None:
        await add_rows(self.database, county, *rows)

    async def woman(self, county: County, name: str, *, arrived: date | None = None, **facts: Any) -> Person:
        person = person_row(county, name, flow_date=arrived, **facts)
        await self._add(county, person)
        return person

    async def certificate(
        self,
        county: County,
        person: Person,
        *,
        issued: date,
        permanent: bool = False,
        status: CertificateStatus = CertificateStatus.valid,
        renews: Certificate | None = None,
    ) -> Certificate:
        certificate = Certificate(
            id=uuid.uuid4(),
            tenant_id=county.tenant.id,
            person_id=person.id,
            number=f"HY{next(_numbers):08d}",
            issue_date=issued,
            issuing_unit_code="110101001",
            issuing_unit_name="东华门街道",
            permanent=permanent,
            valid_until=None if permanent else add_years(issued, 3),
            status=status,
            renews_id=renews.id if renews else None,
            org_unit_code=person.org_unit_code,
        )
        await self._add(county, certificate)
        return certificate

    async def inspection(self, county: County, certificate: Certificate, on: date) -> None:
        await self._add(
            county,
            CertificateInspection(
                id=uuid.uuid4(),
                tenant_id=county.tenant.id,
                certificate_id=certificate.id,
                inspected_on=on,
                inspector_name="查验员",
                org_unit_code=certificate.org_unit_code,
                result=InspectionResult.valid,
            ),
        )

    async def child(self, county: County, mother: Person, born: date, order: int = 1) -> None:
        await self._add(
            county,
            PersonChild(
                id=uuid.uuid4(),
                tenant_id=county.tenant.id,
                person_id=mother.id,
                birth_order=order,
                birth_date=born,
                sex=Sex.male,
            ),
        )

    async def rules(self, county: County, overrides: dict[str, Any], *, enabled: bool | None = None) -> None:
        """The county's follow-up rule override, as an operator would store it."""
        await self._add(
            county,
            CaseTypeConfig(
                id=uuid.uuid4(),
                tenant_id=county.tenant.id,
                code=RULES_CONFIG_CODE,
                enabled=enabled,
                overrides=overrides,
            ),
        )

    async def close_unit(self, county: County, unit: str) -> None:
        """An org unit closed (merged away) since its persons were registered."""
        async with self.database.sessionmaker() as session, session.begin():
            await set_tenant(session, county.tenant.id)
            await session.execute(
                update(OrgUnit)
                .where(OrgUnit.tenant_id == county.tenant.id, OrgUnit.code == county.units[unit])
                .values(active=False, version=OrgUnit.version + 1)
            )

    async def disable_case_type(self, county: County, code: str) -> None:
        await self._add(
            county, CaseTypeConfig(id=uuid.uuid4(), tenant_id=county.tenant.id, code=code, enabled=False, overrides={})
        )

    async def cases(self, county: County, case_type: str | None = None, person: Person | None = None) -> list[Case]:
        """The county's cases (optionally of one type or about one person), by due date."""
        async with self.database.sessionmaker() as session, session.begin():
            await set_tenant(session, county.tenant.id)
            statement = select(Case).where(Case.tenant_id == county.tenant.id)
            if case_type is not None:
                statement = statement.where(Case.case_type == case_type)
            if person is not None:
                statement = statement.where(Case.primary_person_id == person.id)
            return list((await session.execute(statement.order_by(Case.due_at, Case.number))).scalars().all())

    async def release_outbox(self) -> None:
        """The relay is not under test here: mark the cases' workflow starts done, so that a relay run by a
        later test in the session does not pick them up."""
        for county in self.counties:
            async with self.database.sessionmaker() as session, session.begin():
                await set_tenant(session, county.tenant.id)
                await session.execute(
                    update(OutboxMessage)
                    .where(OutboxMessage.tenant_id == county.tenant.id, OutboxMessage.processed_at.is_(None))
                    .values(processed_at=datetime.now(UTC), result={"skipped": "follow-up tests"})
                )


@pytest.fixture
async def registry(database: Database) -> AsyncIterator[Registry]:
    registry = Registry(database)
    yield registry
    await registry.release_outbox()


@pytest.fixture
async def county(registry: Registry, tenant_factory: TenantFactory) -> County:
    return await registry.county(tenant_factory)


Sweep = Callable[..., Awaitable[FollowUpSweepResult]]


@pytest.fixture
async def sweep(time_skipping_env: WorkflowEnvironment, database: Database) -> AsyncIterator[Sweep]:
    """Run the sweep workflow to completion for the given counties (on `as_of`, or today by workflow time)."""
    task_queue = f"followups-{uuid.uuid4()}"
    async with Worker(
        time_skipping_env.client,
        task_queue=task_queue,
        workflows=FOLLOWUP_WORKFLOWS,
        activities=followup_activities(database),
    ):

        async def run(*counties: County, as_of: date | None = None) -> FollowUpSweepResult:
            return await time_skipping_env.client.execute_workflow(
                FollowUpSweepWorkflow.run,
                FollowUpSweepInput(as_of=as_of, tenant_codes=[county.code for county in counties]),
                id=f"followup-sweep-{uuid.uuid4()}",
                task_queue=task_queue,
                # The test server leaves a finished run's timeout timer behind and skips time to it while
                # the client waits (10 years by default): a short one keeps workflow time near the test's.
                run_timeout=RUN_TIMEOUT,
            )

        yield run
