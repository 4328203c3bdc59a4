"""Every query on the audit log. Rows are only ever inserted and read."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import datetime

from sqlalchemy import insert, inspect, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from backend.db.scoping import under_roots
from backend.db.search import begins_with
from backend.db.tenancy import current_tenant_id
from backend.models import AuditChainHead, AuditEvent


class AuditRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def lock_chain_head(self) -> AuditChainHead | None:
        """The tenant's chain head, locked until the transaction ends: appends within a tenant are serial."""
        statement = (
            select(AuditChainHead).where(AuditChainHead.tenant_id == current_tenant_id(self.session)).with_for_update()
        )
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def append(self, event: AuditEvent) -> None:
        """Insert the event and move the (locked) chain head to it, in one statement."""
        values = {
            attribute.key: getattr(event, attribute.key)
            for attribute in inspect(AuditEvent).column_attrs
            if getattr(event, attribute.key) is not None
        }
        moved_head = (
            update(AuditChainHead)
            .where(AuditChainHead.tenant_id == event.tenant_id)
            .values(last_seq=event.seq, last_hash=event.hash)
            .cte("moved_head")
        )
        await self.session.execute(insert(AuditEvent).values(values).add_cte(moved_head))

    async def append_all(self, events: Sequence[AuditEvent]) -> None:
        """Insert consecutive events of one chain (one multi-row insert) and move the (locked) head to the last."""
        keys = [attribute.key for attribute in inspect(AuditEvent).column_attrs]
        await self.session.execute(insert(AuditEvent), [{key: getattr(event, key) for key in keys} for event in events])
        last = events[-1]
        await self.session.execute(
            update(AuditChainHead)
            .where(AuditChainHead.tenant_id == last.tenant_id)
            .values(last_seq=last.seq, last_hash=last.hash)
        )

    async def chain_head(self) -> AuditChainHead | None:
        statement = select(AuditChainHead).where(AuditChainHead.tenant_id == current_tenant_id(self.session))
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def stream_chain(self, batch_size: int = 1000) -> AsyncIterator[AuditEvent]:
        """The tenant's events in chain order, read in batches so a long chain does not fill memory."""
        tenant_id = current_tenant_id(self.session)
        last_seq = 0
        while True:
            statement = (
                select(AuditEvent)
                .where(AuditEvent.tenant_id == tenant_id, AuditEvent.seq > last_seq)
                .order_by(AuditEvent.seq)
                .limit(batch_size)
                .execution_options(populate_existing=True)
            )
            batch = (await self.session.execute(statement)).scalars().all()
            for event in batch:
                yield event
                # Verified rows are not needed again; keep the identity map from growing with the chain.
                self.session.expunge(event)
            if len(batch) < batch_size:
                return
            last_seq = batch[-1].seq

    async def list_for_entity(self, entity_type: str, entity_id: str) -> list[AuditEvent]:
        """One entity's events, oldest first (timelines)."""
        statement = (
            select(AuditEvent)
            .where(
                AuditEvent.tenant_id == current_tenant_id(self.session),
                AuditEvent.entity_type == entity_type,
                AuditEvent.entity_id == entity_id,
            )
            .order_by(AuditEvent.seq)
        )
        return list((await self.session.execute(statement)).scalars().all())

    async def list_recent(self, limit: int = 50) -> list[AuditEvent]:
        statement = (
            select(AuditEvent)
            .where(AuditEvent.tenant_id == current_tenant_id(self.session))
            .order_by(AuditEvent.seq.desc())
            .limit(limit)
        )
        return list((await self.session.execute(statement)).scalars().all())

    def add_head(self, tenant_id: uuid.UUID, genesis: str) -> AuditChainHead:
        head = AuditChainHead(tenant_id=tenant_id, last_seq=0, last_hash=genesis)
        self.session.add(head)
        return head

    async def search(
        self,
        *,
        roots: list[str],
        entity_type: str | None,
        entity_id: str | None,
        correlation_id: str | None,
        limit: int,
        actor_id: str | None = None,
        action: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        offset: int = 0,
    ) -> list[AuditEvent]:
        """Newest first, limited to events of units under `roots` ('' = the whole county, including events
        that belong to no unit); narrowed to one entity, one correlation id, one actor, one action (or, ending
        with a dot, one area of actions: `case.`), a time range [since, until)."""
        statement = select(AuditEvent).where(AuditEvent.tenant_id == current_tenant_id(self.session))
        statement = statement.where(under_roots(AuditEvent.org_unit_code, roots))
        if entity_type:
            statement = statement.where(AuditEvent.entity_type == entity_type)
        if entity_id:
            statement = statement.where(AuditEvent.entity_id == entity_id)
        if correlation_id:
            statement = statement.where(AuditEvent.correlation_id == correlation_id)
        if actor_id:
            statement = statement.where(AuditEvent.actor_id == actor_id)
        if action and action.endswith("."):
            statement = statement.where(begins_with(AuditEvent.action, action))
        elif action:
            statement = statement.where(AuditEvent.action == action)
        if since is not None:
            statement = statement.where(AuditEvent.occurred_at >= since)
        if until is not None:
            statement = statement.where(AuditEvent.occurred_at < until)
        statement = statement.order_by(AuditEvent.seq.desc()).offset(offset).limit(limit)
        return list((await self.session.execute(statement)).scalars().all())
