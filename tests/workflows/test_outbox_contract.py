"""The outbox contract: one payload model per kind, rows stored as before, and the relay handing each handler
its validated model (or refusing, for good, what it cannot read)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select

from backend.core import outbox
from backend.core.clock import utc_now
from backend.core.outbox import OutboxKind, OutboxPayload, ReplanCase, StartCase
from backend.db.engine import Database
from backend.db.tenancy import set_tenant
from backend.models import OutboxMessage
from tests.fixtures.database import TenantFactory
from workflows.outbox import OutboxRelay


def test_every_kind_has_exactly_one_payload_model() -> None:
    assert set(outbox.PAYLOADS) == set(OutboxKind)
    assert all(model.kind is kind for kind, model in outbox.PAYLOADS.items())
    assert len(set(outbox.PAYLOADS.values())) == len(OutboxKind)


def test_a_case_start_written_before_the_contract_still_reads() -> None:
    """Rows written before the typed contract carried the workflow input's two empty keys as well."""
    case_id, tenant_id = uuid.uuid4(), uuid.uuid4()
    stored = OutboxMessage(
        kind="case.start",
        payload={
            "tenant_id": str(tenant_id),
            "tenant_code": "330106",
            "case_id": str(case_id),
            "case_number": "330106-2026-000001",
            "state": None,
            "history_limit": None,
        },
    )
    payload = outbox.payload_of(stored)
    assert payload == StartCase(
        tenant_id=tenant_id, tenant_code="330106", case_id=case_id, case_number="330106-2026-000001"
    )


async def test_enqueue_stores_the_kind_and_the_payload_json(database: Database, tenant_factory: TenantFactory) -> None:
    tenant = await tenant_factory()
    case_id = uuid.uuid4()
    async with database.sessionmaker() as session, session.begin():
        await set_tenant(session, tenant.id)
        message = await outbox.enqueue(
            session, ReplanCase(workflow_id=f"case:{tenant.code}:{case_id}", case_id=case_id)
        )
    async with database.sessionmaker() as session, session.begin():
        await set_tenant(session, tenant.id)
        stored = (await session.execute(select(OutboxMessage).where(OutboxMessage.id == message.id))).scalar_one()
    assert stored.kind == "case.replan"
    assert stored.payload == {"workflow_id": f"case:{tenant.code}:{case_id}", "case_id": str(case_id)}
    assert stored.tenant_id == tenant.id and stored.processed_at is None


async def test_the_relay_hands_handlers_their_model_and_refuses_what_it_cannot_read(
    database: Database, tenant_factory: TenantFactory
) -> None:
    tenant = await tenant_factory()
    received: list[OutboxPayload] = []

    async def replan(payload: ReplanCase) -> dict[str, Any]:
        received.append(payload)
        return {"signalled": True}

    case_id = uuid.uuid4()
    now = utc_now()
    rows = {
        "good": ("case.replan", {"workflow_id": "case:x", "case_id": str(case_id)}),
        "unreadable": ("case.replan", {"case_id": str(case_id)}),
        "no handler": ("case.act", {"workflow_id": "case:x", "case_id": str(case_id), "action": {}}),
        "unknown kind": ("case.teleport", {}),
    }
    ids = {name: uuid.uuid4() for name in rows}
    async with database.sessionmaker() as session, session.begin():
        await set_tenant(session, tenant.id)
        for name, (kind, payload) in rows.items():
            session.add(
                OutboxMessage(
                    id=ids[name],
                    tenant_id=tenant.id,
                    kind=kind,
                    payload=payload,
                    created_at=now,
                    available_at=now,
                    attempts=0,
                )
            )
    relay = OutboxRelay(database, {OutboxKind.case_replan: replan})
    while await relay.process_county(tenant.id):
        pass
    async with database.sessionmaker() as session, session.begin():
        await set_tenant(session, tenant.id)
        stored = {
            message.id: message
            for message in (await session.execute(select(OutboxMessage).where(OutboxMessage.id.in_(ids.values()))))
            .scalars()
            .all()
        }
    assert received == [ReplanCase(workflow_id="case:x", case_id=case_id)]
    assert stored[ids["good"]].result == {"signalled": True}
    assert stored[ids["unreadable"]].result["rejected"].startswith("unreadable case.replan payload")
    assert stored[ids["no handler"]].result == {"rejected": "no handler for case.act"}
    assert stored[ids["unknown kind"]].result == {"rejected": "no handler for case.teleport"}
    assert all(message.processed_at is not None and message.attempts == 1 for message in stored.values())
