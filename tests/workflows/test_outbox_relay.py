"""The outbox: the API keeps accepting work while Temporal is down, and the relay catches up afterwards,
starting each case's workflow exactly once."""

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
    relay = build_relay(settings.model_copy(update={"temporal_address": f"127.0.0.1:{port}"}), database, FAST_RETRY)
    await relay.poll()  # nothing listens on the port: every message fails and waits for its retry
    assert await _pending(database, county) == CASES

    server = temporal_dev.start_dev_server(port=port)
    try:
        temporal_dev.wait_until_ready(f"127.0.0.1:{port}")
        for _ in range(200):
            await relay.poll()
            if await _pending(database, county) == 0:
                break
            await asyncio.sleep(0.1)
        assert await _pending(database, county) == 0

        # A second delivery of every start (a relay that crashed after the call, before marking it done).
        async with database.sessionmaker() as session, session.begin():
            await set_tenant(session, county.tenant.id)
            await session.execute(update(OutboxMessage).values(processed_at=None))
        await relay.poll()
        assert await _pending(database, county) == 0

        client = await Client.connect(f"127.0.0.1:{port}")
        for case_id in case_ids:
            workflow_id = case_workflow_id(county.code, case_id)
            executions = [execution async for execution in client.list_workflows(f'WorkflowId = "{workflow_id}"')]
            assert len(executions) == 1, workflow_id
            assert executions[0].workflow_type == "CaseWorkflow"
    finally:
        temporal_dev.stop(server)
