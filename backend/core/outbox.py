"""The transactional outbox and its relay.

`enqueue()` records a side effect in the caller's transaction. The relay (run by the worker process) reads
each county's pending messages after commit, performs them (start or update a Temporal workflow, ...) and
marks them processed; failures are retried with exponential backoff, so when Temporal is down the API keeps
accepting work and the relay catches up. Performing a message twice is harmless: workflow ids are derived
from the case and update ids from the message id, so Temporal deduplicates.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.core.clock import utc_now
from backend.db.engine import Database
from backend.db.tenancy import current_tenant_id, set_tenant
from backend.models import OutboxMessage
from backend.tenants.service import list_tenants

log = logging.getLogger(__name__)

# A handler performs one message and returns what to store as its result. PermanentFailure marks the
# message done with the failure recorded (retrying could not help); any other exception is retried.
Handler = Callable[[OutboxMessage], Awaitable[dict[str, Any] | None]]


class PermanentFailure(Exception):
    """The side effect was refused for good (e.g. a workflow rejected an update as invalid)."""


async def enqueue(
    session: AsyncSession, kind: str, payload: dict[str, Any], *, message_id: uuid.UUID | None = None
) -> OutboxMessage:
    """Record a side effect to perform after this transaction commits."""
    now = utc_now()
    message = OutboxMessage(
        id=message_id or uuid.uuid4(),
        tenant_id=current_tenant_id(session),
        kind=kind,
        payload=payload,
        created_at=now,
        available_at=now,
        attempts=0,
    )
    session.add(message)
    await session.flush()
    return message


async def get_message(session: AsyncSession, message_id: uuid.UUID) -> OutboxMessage | None:
    statement = select(OutboxMessage).where(
        OutboxMessage.tenant_id == current_tenant_id(session), OutboxMessage.id == message_id
    )
    return (await session.execute(statement)).scalar_one_or_none()


@dataclass
class RelaySettings:
    batch_size: int = 100
    idle_poll_seconds: float = 0.5
    base_backoff_seconds: float = 1.0
    max_backoff_seconds: float = 300.0


class OutboxRelay:
    def __init__(self, database: Database, handlers: dict[str, Handler], settings: RelaySettings | None = None):
        self.database = database
        self.handlers = handlers
        self.settings = settings or RelaySettings()

    def _backoff(self, attempts: int) -> timedelta:
        seconds = min(self.settings.base_backoff_seconds * 2 ** (attempts - 1), self.settings.max_backoff_seconds)
        return timedelta(seconds=seconds)

    async def _tenant_ids(self) -> list[uuid.UUID]:
        async with self.database.sessionmaker() as session, session.begin():
            return [tenant.id for tenant in await list_tenants(session)]

    async def _process_one(self, tenant_id: uuid.UUID) -> bool:
        """Claim and perform the oldest due message of one county; False when there is none."""
        async with self.database.sessionmaker() as session, session.begin():
            await set_tenant(session, tenant_id)
            statement = (
                select(OutboxMessage)
                .where(
                    OutboxMessage.tenant_id == tenant_id,
                    OutboxMessage.processed_at.is_(None),
                    OutboxMessage.available_at <= utc_now(),
                )
                .order_by(OutboxMessage.created_at)
                .limit(1)
                # Several relays may run: each message is claimed by one of them at a time.
                .with_for_update(skip_locked=True)
            )
            message = (await session.execute(statement)).scalar_one_or_none()
            if message is None:
                return False
            handler = self.handlers.get(message.kind)
            message.attempts += 1
            try:
                if handler is None:
                    raise PermanentFailure(f"no handler for {message.kind}")
                message.result = await handler(message)
                message.processed_at = utc_now()
            except PermanentFailure as failure:
                message.result = {"rejected": str(failure)}
                message.processed_at = utc_now()
                log.warning("outbox message refused", extra={"message_id": str(message.id), "reason": str(failure)})
            except Exception as error:  # retried later: Temporal down, timeouts, ...
                message.last_error = f"{type(error).__name__}: {error}"[:2000]
                message.available_at = utc_now() + self._backoff(message.attempts)
                log.info(
                    "outbox message will be retried",
                    extra={"message_id": str(message.id), "attempts": message.attempts, "error": repr(error)},
                )
            return True

    async def drain(self) -> int:
        """Perform every message that is due now, county by county; returns how many were attempted."""
        attempted = 0
        for tenant_id in await self._tenant_ids():
            for _ in range(self.settings.batch_size):
                if not await self._process_one(tenant_id):
                    break
                attempted += 1
        return attempted

    async def run(self, stop: asyncio.Event) -> None:
        """Drain, then poll, until `stop` is set; a failed pass is logged and retried, never fatal."""
        while not stop.is_set():
            try:
                attempted = await self.drain()
            except Exception:
                log.exception("outbox relay pass failed")
                attempted = 0
            if attempted == 0:
                try:
                    await asyncio.wait_for(stop.wait(), self.settings.idle_poll_seconds)
                except TimeoutError:
                    pass
