"""The outbox: the API keeps accepting work while Temporal is down, and the relays catch up afterwards, starting
each case's workflow exactly once — with two relays on pools of their own (as two worker processes run them)
polling at the same time."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select, update
from temporalio.client import Client

from backend.authz.vocabulary import Role
from backend.config import Settings
from backend.db.engine import Database
from backend.db.tenancy import set_tenant
from backend.devservices import postgres
from backend.devservices import temporal as temporal_dev
from backend.models import OutboxMessage
from tests.fixtures.database import TenantFactory, park_background_work
from tests.fixtures.identity import County, SignIn, add_user, build_county
from workflows.cases.types import case_workflow_id
from workflows.outbox import RelaySettings
from workflows.relay import build_relay

CASES = 50
FAST_RETRY = RelaySettings(base_backoff_seconds=0.05, max_backoff_seconds=0.2, idle_poll_seconds=0.05)


@pytest.fixture
async def county(database: Database, tenant_factory: TenantFactory, database_urls: postgres.DatabaseUrls) -> County:
    county = await build_county(database, tenant_factory)
    await add_user(database, county, "officer", "t1", [(Role.township_officer, "t1")])
    # The relay drains every county: earlier tests' pending messages would make this test measure them.
    await park_background_work(database_urls, county.tenant.id)
    return county


async def _pending(database: Database, county: County) -> int:
    async with database.sessionmaker() as session, session.begin():
        await set_tenant(session, county.tenant.id)
        statement = select(func.count()).select_from(OutboxMessage).where(OutboxMessage.processed_at.is_(None))
        return int((await session.execute(statement)).scalar_one())


async def test_cases_opened_while_temporal_is_down_get_exactly_one_workflow_each(
    county: County, sign_in: SignIn, database: Database, settings: Settings
) -> None:
    officer = await sign_in(county, "officer")
    responses = await asyncio.gather(
        *(
            officer.post(
                "/api/v1/cases", json={"case_type": "inflow_registration", "org_unit_code": county.units["v11"]}
            )
            for _ in range(CASES)
        )
    )
    assert [response.status_code for response in responses] == [201] * CASES
    case_ids = [response.json()["id"] for response in responses]
    assert await _pending(database, county) == CASES

    port = temporal_dev.free_port()
    relay_settings = settings.model_copy(update={"temporal_address": f"127.0.0.1:{port}"})
    second_database = Database.from_settings(settings)  # the second relay's own pool, like another process
    relays = [
        build_relay(relay_settings, database, FAST_RETRY),
        build_relay(relay_settings, second_database, FAST_RETRY),
    ]

    async def poll_side_by_side() -> None:
        await asyncio.gather(*(relay.poll() for relay in relays))

    async def drain_side_by_side() -> None:
        """Make every pending message due now (its retry time arrives), then poll with both relays at once
        until none is left; no waiting on the clock."""
        async with database.sessionmaker() as session, session.begin():
            await set_tenant(session, county.tenant.id)
            await session.execute(
                update(OutboxMessage).where(OutboxMessage.processed_at.is_(None)).values(available_at=func.now())
            )
        for _ in range(100):
            await poll_side_by_side()
            if await _pending(database, county) == 0:
                return

    server = None
    try:
        await poll_side_by_side()  # nothing listens on the port: every message fails and waits for its retry
        assert await _pending(database, county) == CASES

        server = temporal_dev.start_dev_server(port=port)
        temporal_dev.wait_until_ready(f"127.0.0.1:{port}")
        await drain_side_by_side()
        assert await _pending(database, county) == 0

        # A second delivery of every start (a relay that crashed after the call, before marking it done).
        async with database.sessionmaker() as session, session.begin():
            await set_tenant(session, county.tenant.id)
            await session.execute(update(OutboxMessage).values(processed_at=None, available_at=func.now()))
        await drain_side_by_side()
        assert await _pending(database, county) == 0

        client = await Client.connect(f"127.0.0.1:{port}")
        for case_id in case_ids:
            workflow_id = case_workflow_id(county.code, case_id)
            executions = [execution async for execution in client.list_workflows(f'WorkflowId = "{workflow_id}"')]
            assert len(executions) == 1, workflow_id
            assert executions[0].workflow_type == "CaseWorkflow"
    finally:
        await second_database.dispose()
        if server is not None:
            temporal_dev.stop(server)
