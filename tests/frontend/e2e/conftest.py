"""Fixtures of the browser tests: a background event loop for set-up that outlives one call, and a World that
builds a county, its users and cases through the services."""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import pytest

from backend.authz.vocabulary import Role
from backend.config import Settings
from backend.core.context import SYSTEM_ACTOR, actor_var
from backend.db.engine import Database
from backend.db.tenancy import set_tenant
from backend.models import Case, CaseStage, CaseStatus, Tenant, User
from backend.persons.names import name_search_keys
from backend.tenants.schemas import TenantCreate
from backend.tenants.service import provision_tenant
from tests.fixtures.database import unique_county_code
from tests.fixtures.identity import County, add_user, build_county

T = TypeVar("T")


class BackgroundLoop:
    """An event loop in its own thread for the whole test: Playwright's sync API holds the main thread, and
    Temporal servers, workers and database pools must outlive a single set-up call."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coroutine: Coroutine[Any, Any, T], timeout: float = 120) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


@pytest.fixture
def background() -> Iterator[BackgroundLoop]:
    loop = BackgroundLoop()
    yield loop
    loop.close()


@dataclass
class World:
    """A county and its people, built through the services, from the test's background loop."""

    settings: Settings
    database: Database
    county: County = field(init=False)

    async def build(self, name: str) -> County:
        async def provision(name: str = name, code: str | None = None) -> Tenant:
            async with self.database.sessionmaker() as session, session.begin():
                return await provision_tenant(session, TenantCreate(code=code or unique_county_code(), name=name))

        self.county = await build_county(self.database, provision, name)
        return self.county

    async def user(self, username: str, unit: str, grants: list[tuple[Role, str]]) -> User:
        return await add_user(self.database, self.county, username, unit, grants)

    async def case(
        self,
        subject_name: str,
        unit: str,
        *,
        assignee: str | None = None,
        stage: CaseStage = CaseStage.registration,
        due_in: timedelta | None = timedelta(days=10),
        case_type: str = "inflow_registration",
    ) -> Case:
        """A case as the case service stores it, started now; the case workflow (when a test runs one) keeps
        its deadline from there."""
        now = datetime.now(UTC)
        case = Case(
            id=uuid.uuid4(),
            tenant_id=self.county.tenant.id,
            number=f"{self.county.code}-2026-{uuid.uuid4().int % 1_000_000:06d}",
            case_type=case_type,
            title=f"登记：{subject_name}",
            org_unit_code=self.county.units.get(unit, unit),
            stage=stage,
            status=CaseStatus.open,
            assignee_id=self.county.users[assignee].id if assignee else None,
            subject_name=subject_name,
            subject_pinyin=name_search_keys(subject_name).pinyin,
            received_at=now,
            stage_started_at=now,
            due_at=now + due_in if due_in is not None else None,
            details={},
            created_by="test",
        )
        actor_var.set(SYSTEM_ACTOR)
        async with self.database.sessionmaker() as session, session.begin():
            await set_tenant(session, self.county.tenant.id)
            session.add(case)
        return case


@pytest.fixture
def world(settings: Settings, background: BackgroundLoop) -> Iterator[World]:
    database = background.run(_database(settings))
    yield World(settings, database)
    background.run(database.dispose())


async def _database(settings: Settings) -> Database:
    return Database.from_settings(settings)
