"""`record_all`: many events appended in one insert keep the chain as `record()` one by one would, mixed with
ordinary appends in the same transaction and across transactions, and a bulk append that fails leaves nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError

from backend.audit import service as audit
from backend.audit.repository import AuditRepository
from backend.core.context import Actor, actor_var
from backend.db.engine import Database
from backend.db.tenancy import set_tenant
from backend.models import AuditEvent, Tenant
from tests.fixtures.database import TenantFactory


def _entries(prefix: str, count: int) -> list[audit.Entry]:
    return [
        audit.Entry(
            action="case.open",
            entity_type="case",
            entity_id=f"{prefix}-{index}",
            org_unit_code="330106",
            correlation_id=f"330106-2026-{index:06d}",
            changes=audit.diff(None, {"title": f"通报{index}", "version": 1}),
        )
        for index in range(count)
    ]


async def _one(database: Database, tenant: Tenant, action: str) -> None:
    async with database.sessionmaker() as session, session.begin():
        await set_tenant(session, tenant.id)
        await audit.record(session, action=action, entity_type="person", entity_id="p-1", org_unit_code=tenant.code)


async def _chain(database: Database, tenant: Tenant) -> tuple[audit.ChainVerification, list[AuditEvent]]:
    async with database.sessionmaker() as session, session.begin():
        await set_tenant(session, tenant.id)
        verification = await audit.verify_chain(session)
        events = list(
            (
                await session.execute(
                    select(AuditEvent).where(AuditEvent.tenant_id == tenant.id).order_by(AuditEvent.seq)
                )
            )
            .scalars()
            .all()
        )
        return verification, events


async def test_bulk_appends_mixed_with_ordinary_ones_keep_the_chain_verifiable(
    database: Database, tenant_factory: TenantFactory
) -> None:
    tenant = await tenant_factory()
    actor_var.set(Actor(kind="system", id="intake-router", label="部门通报分拣 intake router"))
    await _one(database, tenant, "person.update")
    async with database.sessionmaker() as session, session.begin():
        await set_tenant(session, tenant.id)
        await audit.record(session, action="person.update", entity_type="person", entity_id="p-2")
        first = await audit.record_all(session, _entries("a", 3))
        await audit.record(session, action="person.update", entity_type="person", entity_id="p-3")
        second = await audit.record_all(session, _entries("b", 2))
        assert await audit.record_all(session, []) == []
    await _one(database, tenant, "person.update")
    async with database.sessionmaker() as session, session.begin():
        await set_tenant(session, tenant.id)
        third = await audit.record_all(session, _entries("c", 4))

    verification, events = await _chain(database, tenant)
    assert verification.ok, verification
    assert [event.seq for event in events] == list(range(1, len(events) + 1))
    bulk = [event.entity_id for event in events if event.action == "case.open"]
    assert bulk == [f"a-{n}" for n in range(3)] + [f"b-{n}" for n in range(2)] + [f"c-{n}" for n in range(4)]
    assert [event.seq for event in first] == [event.seq for event in events if event.entity_id.startswith("a-")]
    assert second[0].prev_hash == events[second[0].seq - 2].hash
    assert third[-1].seq == events[-1].seq
    async with database.sessionmaker() as session, session.begin():
        await set_tenant(session, tenant.id)
        head = await AuditRepository(session).chain_head()
        assert head is not None and (head.last_seq, head.last_hash) == (events[-1].seq, events[-1].hash)
    stored = next(event for event in events if event.entity_id == "b-1")
    assert stored.changes == {"title": [None, "通报1"], "version": [None, 1]}
    assert stored.actor_id == "intake-router"


async def test_a_bulk_append_that_fails_leaves_no_event_and_the_next_append_links_on(
    database: Database, tenant_factory: TenantFactory
) -> None:
    tenant = await tenant_factory()
    actor_var.set(Actor(kind="system", id="intake-router", label="部门通报分拣 intake router"))
    await _one(database, tenant, "person.update")
    _, before = await _chain(database, tenant)
    too_long = audit.Entry(action="x" * 500, entity_type="case", entity_id="bad")  # longer than the column
    async with database.sessionmaker() as session, session.begin():
        await set_tenant(session, tenant.id)
        with pytest.raises(DBAPIError):
            async with session.begin_nested():
                await audit.record_all(session, [*_entries("ok", 2), too_long])
        await audit.record_all(session, _entries("after", 2))
    verification, events = await _chain(database, tenant)
    assert verification.ok, verification
    assert len(events) == len(before) + 2
    assert [event.entity_id for event in events[-2:]] == ["after-0", "after-1"]
    async with database.sessionmaker() as session, session.begin():
        await set_tenant(session, tenant.id)
        count = (await session.execute(select(func.count()).select_from(AuditEvent))).scalar_one()
    assert count == len(events)
