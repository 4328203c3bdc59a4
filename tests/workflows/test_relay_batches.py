"""The relay keeps up: it claims a county's messages in batches, performs different cases' messages
concurrently and one case's in order, lets several relays run side by side with each message performed once,
wakes on PostgreSQL's notification instead of waiting for its slow poll, and never starts a second workflow for
a case whose workflow has finished."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from sqlalchemy import select
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from backend.core import outbox
from backend.core.outbox import OutboxKind, ReplanCase, StartCase
from backend.db.engine import Database
from backend.db.tenancy import set_tenant
from backend.devservices import postgres
from backend.models import OutboxMessage, Tenant
from tests.fixtures.database import TenantFactory, park_background_work
from workflows.cases.types import case_workflow_id
from workflows.outbox import OutboxRelay, RelaySettings
from workflows.outbox_handlers import case_handlers

WAIT = 30  # seconds before a test gives up waiting for the relay: a failure, not a measurement


@pytest.fixture
async def county(tenant_factory: TenantFactory, database_urls: postgres.DatabaseUrls) -> Tenant:
    tenant = await tenant_factory()
    # A relay works every county: earlier tests' pending messages stay out of this test's way.
    await park_background_work(database_urls, tenant.id)
    return tenant


async def _replans(database: Database, tenant: Tenant, case_ids: list[uuid.UUID], per_case: int) -> list[uuid.UUID]:
    """`per_case` replan messages for each case, written in this order; their ids."""
    ids = []
    async with database.sessionmaker() as session, session.begin():
        await set_tenant(session, tenant.id)
        for _ in range(per_case):
            for case_id in case_ids:
                message = await outbox.enqueue(session, ReplanCase(workflow_id=f"case:x:{case_id}", case_id=case_id))
                ids.append(message.id)
    return ids


async def _stored(database: Database, tenant: Tenant, ids: list[uuid.UUID]) -> dict[uuid.UUID, OutboxMessage]:
    async with database.sessionmaker() as session, session.begin():
        await set_tenant(session, tenant.id)
        rows = (await session.execute(select(OutboxMessage).where(OutboxMessage.id.in_(ids)))).scalars().all()
        return {row.id: row for row in rows}


async def test_one_cases_messages_run_in_order_while_other_cases_run_at_the_same_time(
    database: Database, county: Tenant
) -> None:
    first, second = uuid.uuid4(), uuid.uuid4()
    await _replans(database, county, [first, second], per_case=2)
    calls: list[uuid.UUID] = []
    second_started = asyncio.Event()

    async def replan(payload: ReplanCase) -> dict[str, Any]:
        calls.append(payload.case_id)
        if payload.case_id == second:
            second_started.set()
        elif len([call for call in calls if call == first]) == 1:
            # The first case's first message holds on until the second case's has started: only possible if
            # the two cases run concurrently.
            await asyncio.wait_for(second_started.wait(), WAIT)
        return {"signalled": True}

    relay = OutboxRelay(database, {OutboxKind.case_replan: replan})
    assert await relay.process_county(county.id) == 4  # one batch, one transaction
    assert calls.index(second) < calls.index(first, calls.index(first) + 1)  # concurrent across cases
    assert [call for call in calls if call == first] == [first, first]
    assert await relay.process_county(county.id) == 0


async def test_a_failed_message_holds_back_the_later_messages_of_its_case_only(
    database: Database, county: Tenant
) -> None:
    failing, healthy = uuid.uuid4(), uuid.uuid4()
    ids = await _replans(database, county, [failing, healthy], per_case=2)

    async def replan(payload: ReplanCase) -> dict[str, Any]:
        if payload.case_id == failing:
            raise RuntimeError("Temporal unreachable")
        return {"signalled": True}

    relay = OutboxRelay(database, {OutboxKind.case_replan: replan}, RelaySettings(base_backoff_seconds=60))
    await relay.process_county(county.id)
    stored = await _stored(database, county, ids)
    failed_first, healthy_first, failed_second, healthy_second = (stored[message_id] for message_id in ids)
    assert failed_first.attempts == 1 and failed_first.processed_at is None and failed_first.last_error
    assert failed_second.attempts == 0 and failed_second.processed_at is None  # not attempted out of order
    assert failed_second.available_at == failed_first.available_at  # waits for the same retry
    assert healthy_first.processed_at is not None and healthy_second.processed_at is not None
    assert await relay.process_county(county.id) == 0  # nothing due until the retry time


async def test_relays_running_side_by_side_perform_each_message_once(database: Database, county: Tenant) -> None:
    case_ids = [uuid.uuid4() for _ in range(40)]
    ids = await _replans(database, county, case_ids, per_case=3)
    performed: list[uuid.UUID] = []

    async def replan(payload: ReplanCase) -> dict[str, Any]:
        performed.append(payload.case_id)
        return {"signalled": True}

    settings = RelaySettings(batch_size=25)
    relays = [OutboxRelay(database, {OutboxKind.case_replan: replan}, settings) for _ in range(3)]

    async def drain(relay: OutboxRelay) -> None:
        while await relay.process_county(county.id):
            pass

    await asyncio.gather(*(drain(relay) for relay in relays))
    stored = await _stored(database, county, ids)
    assert len(performed) == len(ids)
    assert sorted(performed) == sorted(case_ids * 3)
    assert all(row.processed_at is not None and row.attempts == 1 for row in stored.values())


async def test_an_idle_relay_wakes_when_a_message_is_committed(database: Database, county: Tenant) -> None:
    performed = asyncio.Event()

    async def replan(payload: ReplanCase) -> dict[str, Any]:
        performed.set()
        return {"signalled": True}

    # The slow poll is an hour: only the notification can wake the relay within the test's patience.
    relay = OutboxRelay(database, {OutboxKind.case_replan: replan}, RelaySettings(idle_poll_seconds=3600))
    stop = asyncio.Event()
    running = asyncio.create_task(relay.run(stop))
    try:
        await _wait_until_idle(relay)
        await _replans(database, county, [uuid.uuid4()], per_case=1)
        await asyncio.wait_for(performed.wait(), WAIT)
    finally:
        stop.set()
        await asyncio.wait_for(running, WAIT)


async def _wait_until_idle(relay: OutboxRelay) -> None:
    """Until the relay has made one empty pass (it then waits for a notification)."""
    passes = relay.poll
    idle = asyncio.Event()

    async def counted() -> int:
        claimed = await passes()
        if claimed == 0:
            idle.set()
        return claimed

    relay.poll = counted  # type: ignore[method-assign]
    await asyncio.wait_for(idle.wait(), WAIT)


async def test_a_start_delivered_again_after_the_workflow_finished_starts_nothing(
    database: Database, county: Tenant, temporal_address: str
) -> None:
    client = await Client.connect(temporal_address, data_converter=pydantic_data_converter)
    case_id = uuid.uuid4()
    workflow_id = case_workflow_id(county.code, case_id)
    start = StartCase(tenant_id=county.id, tenant_code=county.code, case_id=case_id, case_number=f"{county.code}-1")
    handlers = case_handlers(client)

    first = await handlers[OutboxKind.case_start](start)
    assert first["workflow_id"] == workflow_id
    await client.get_workflow_handle(workflow_id).terminate("the case closed")
    again = await handlers[OutboxKind.case_start](start)

    assert again == {"workflow_id": workflow_id, "already_finished": True}
    runs = [execution async for execution in client.list_workflows(f'WorkflowId = "{workflow_id}"')]
    assert len(runs) == 1
