"""Every query on the outbox. Messages belong to the transaction's county: each query filters on it on top of
the row-level policy (two locks, not one).

The outbox sits in core, below the repository base (`backend/db/repository.py` builds on authorization), so
this repository filters on the tenant itself, in `_base()`, the one place it does.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.db.tenancy import current_tenant_id
from backend.models import OutboxMessage


class OutboxRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def _base(self) -> Select[OutboxMessage]:
        return select(OutboxMessage).where(OutboxMessage.tenant_id == current_tenant_id(self.session))

    async def add(self, message: OutboxMessage) -> None:
        """Record a message in this transaction."""
        self.session.add(message)
        await self.session.flush()

    async def add_all(self, messages: list[OutboxMessage]) -> None:
        """Record many messages in this transaction, written together."""
        self.session.add_all(messages)
        await self.session.flush()

    async def get(self, message_id: uuid.UUID) -> OutboxMessage | None:
        """The county's message with this id, or None."""
        return (await self.session.scalars(self._base().where(OutboxMessage.id == message_id))).one_or_none()

    async def claim_due(self, now: datetime, limit: int) -> list[OutboxMessage]:
        """The county's oldest `limit` messages due at `now` and not yet processed, oldest first, locked for this
        transaction; other relays skip them (several may run)."""
        statement = (
            self._base()
            .where(OutboxMessage.processed_at.is_(None), OutboxMessage.available_at <= now)
            .order_by(OutboxMessage.created_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return list((await self.session.scalars(statement)).all())
