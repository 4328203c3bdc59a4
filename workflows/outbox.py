"""The outbox relay: performs, after commit, the side effects the API recorded with `backend.core.outbox.enqueue`.

It works county by county: in one transaction per message it claims the county's oldest due message
(`FOR UPDATE SKIP LOCKED`: several relays may run), validates its payload into the kind's model, hands it to
the handler registered for the kind (`workflows/outbox_handlers.py`) and marks it processed with the handler's
result. A failure is retried with exponential backoff, so when Temporal is down the API keeps accepting work
and the relay catches up; a `PermanentFailure` (a workflow refused the update, a payload that cannot be read)
is marked processed with `{"rejected": reason}`, since retrying could not help.
"""

from __future__ import annotations

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
    """The polling defaults (retry after 1 s doubling to 5 min), 100 messages per county per pass."""

    batch_size: int = 100


class OutboxRelay(PollingWorker):
    name = "outbox relay"

    def __init__(self, database: Database, handlers: Handlers, settings: RelaySettings | None = None) -> None:
        super().__init__(settings or RelaySettings())
        self.database = database
        self.handlers = handlers

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
        return await handler(payload)

    async def _process_one(self, tenant_id: uuid.UUID) -> bool:
        """Claim and perform the oldest due message of one county; False when there is none."""
        async with self.database.sessionmaker() as session, session.begin():
            await set_tenant(session, tenant_id)
            message = await OutboxRepository(session).claim_next(utc_now())
            if message is None:
                return False
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
            return True

    async def poll(self) -> int:
        """One pass: every county's due messages, at most a batch each; how many were attempted. A message that
        fails waits for its retry time, so a pass ends even while Temporal is down."""
        attempted = 0
        for tenant_id in await self._tenant_ids():
            for _ in range(self.settings.batch_size):
                if not await self._process_one(tenant_id):
                    break
                attempted += 1
        return attempted
