"""The outbox relay: performs, after commit, the side effects the API recorded with `backend.core.outbox.enqueue`.

A pass works the counties in parallel (`county_concurrency` at once). For each county it claims a batch of due
messages in one transaction (`FOR UPDATE SKIP LOCKED`: several relays may run, each message is worked by one of
them), validates each payload into its kind's model, hands it to the handler registered for the kind
(`workflows/outbox_handlers.py`) and marks it processed with the handler's result, then commits the batch. The
handlers' Temporal calls run concurrently (at most `concurrency` in flight per relay process), except that the
messages of one case (or one verification request) run one after the other in the order they were written, so a
case's workflow is started before its first action is sent.

A failure is retried with exponential backoff, and the same case's later messages wait with it, so when Temporal
is down the API keeps accepting work and the relay catches up; a `PermanentFailure` (a workflow refused the
update, a payload that cannot be read) is marked processed with `{"rejected": reason}`, since retrying could not
help. Exactly one workflow per case: its id is derived from the case and starts are idempotent
(`workflows/outbox_handlers.py`), so a message performed twice (a relay killed before its commit) is harmless.

The relay sleeps when there is nothing to do and wakes on PostgreSQL's `NOTIFY` of a new message
(`backend/core/outbox/` notifies in the writing transaction, delivered at its commit), with a slow poll behind it
in case a notification is lost.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from backend.core import outbox
from backend.core.clock import utc_now
from backend.core.outbox import OutboxKind
from backend.core.outbox.repository import OutboxRepository
from backend.core.polling import PollingWorker, PollSettings, error_text
from backend.db.engine import Database
from backend.db.tenancy import set_tenant
from backend.models import OutboxMessage
from backend.tenants.service import list_tenants

log = logging.getLogger(__name__)
OUTBOX_KINDS = frozenset(kind.value for kind in OutboxKind)

# A handler performs one message, given its validated payload model, and returns what to store as its result.
Handler = Callable[[Any], Awaitable[dict[str, Any] | None]]
Handlers = Mapping[OutboxKind, Handler]
"""The handler of each kind (workflows/outbox_handlers.py builds the registry)."""


class PermanentFailure(Exception):
    """The side effect was refused for good (e.g. a workflow rejected an update as invalid)."""


@dataclass
class RelaySettings(PollSettings):
    batch_size: int = 200  # messages claimed per county per transaction
    concurrency: int = 32  # Temporal calls in flight per relay process
    county_concurrency: int = 4  # counties worked at once
    idle_poll_seconds: float = 5.0  # without a NOTIFY, look again this often


def _target(message: OutboxMessage) -> str:
    """What a message acts on: the case or the verification request (messages to one target keep their order)."""
    payload = message.payload if isinstance(message.payload, dict) else {}
    return str(payload.get("case_id") or payload.get("request_id") or message.id)


class OutboxRelay(PollingWorker):
    name = "outbox relay"
    notify_channel = outbox.NOTIFY_CHANNEL

    def __init__(self, database: Database, handlers: Handlers, settings: RelaySettings | None = None) -> None:
        super().__init__(settings or RelaySettings(), database)
        self.settings: RelaySettings
        self.handlers = handlers
        self._calls = asyncio.Semaphore(self.settings.concurrency)

    async def _tenant_ids(self) -> list[uuid.UUID]:
        async with self.database.sessionmaker() as session, session.begin():
            return [tenant.id for tenant in await list_tenants(session)]

    async def _perform(self, message: OutboxMessage) -> dict[str, Any] | None:
        handler = self.handlers.get(OutboxKind(message.kind)) if message.kind in OUTBOX_KINDS else None
        if handler is None:
            raise PermanentFailure(f"no handler for {message.kind}")
        try:
            payload = outbox.payload_of(message)
        except ValueError as error:
            raise PermanentFailure(f"unreadable {message.kind} payload: {error}") from None
        async with self._calls:
            return await handler(payload)

    async def _work(self, message: OutboxMessage) -> bool:
        """Perform one claimed message and record the outcome on its row; False when it is to be retried."""
        message.attempts += 1
        try:
            message.result = await self._perform(message)
            message.processed_at = utc_now()
        except PermanentFailure as failure:
            message.result = {"rejected": str(failure)}
            message.processed_at = utc_now()
            log.warning("outbox message refused", extra={"message_id": str(message.id), "reason": str(failure)})
        except Exception as error:  # retried later: Temporal down, timeouts, ...
            message.last_error = error_text(error)
            message.available_at = utc_now() + self.backoff(message.attempts)
            log.info(
                "outbox message will be retried",
                extra={"message_id": str(message.id), "attempts": message.attempts, "error": repr(error)},
            )
            return False
        return True

    async def _work_in_order(self, messages: list[OutboxMessage]) -> None:
        """One target's messages, oldest first; after a failure the rest wait for the same retry time."""
        for index, message in enumerate(messages):
            if not await self._work(message):
                for later in messages[index + 1 :]:
                    later.available_at = message.available_at
                return

    async def process_county(self, tenant_id: uuid.UUID) -> int:
        """Claim one batch of the county's due messages and perform them; how many were claimed (0: none due)."""
        async with self.database.sessionmaker() as session, session.begin():
            await set_tenant(session, tenant_id)
            messages = await OutboxRepository(session).claim_due(utc_now(), self.settings.batch_size)
            by_target: dict[str, list[OutboxMessage]] = {}
            for message in messages:
                by_target.setdefault(_target(message), []).append(message)
            await asyncio.gather(*(self._work_in_order(group) for group in by_target.values()))
            return len(messages)

    async def poll(self) -> int:
        """One pass: a batch of every county's due messages, counties in parallel; how many were claimed. A
        message that fails waits for its retry time, so a pass ends even while Temporal is down."""
        counties = asyncio.Semaphore(self.settings.county_concurrency)

        async def one_county(tenant_id: uuid.UUID) -> int:
            async with counties:
                return await self.process_county(tenant_id)

        return sum(await asyncio.gather(*(one_county(tenant_id) for tenant_id in await self._tenant_ids())))
