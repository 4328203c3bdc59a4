"""The outbox relay as the worker runs it: connects to Temporal lazily and reconnects after an outage."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from temporalio.client import Client

from backend.config import Settings
from backend.core.outbox import OutboxKind, OutboxPayload
from backend.core.temporal import connect
from backend.db.engine import Database
from workflows.outbox import Handler, OutboxRelay, RelaySettings
from workflows.outbox_handlers import archive_handlers, case_handlers, notification_handlers

log = logging.getLogger(__name__)


class ReconnectingHandlers:
    """Handlers bound to a Temporal client that is (re)created on demand: while Temporal is down, every
    message fails fast and is retried with backoff; the first message after it is back reconnects."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._client: Client | None = None
        self._handlers: dict[OutboxKind, Handler] = {}

    async def _bound(self) -> dict[OutboxKind, Handler]:
        if self._client is None:
            self._client = await connect(self.settings)
            self._handlers = case_handlers(self._client)
        return self._handlers

    def handler_for(self, kind: OutboxKind) -> Handler:
        async def handle(payload: OutboxPayload) -> dict[str, Any] | None:
            try:
                handlers = await self._bound()
            except Exception:
                self._client = None
                raise
            return await handlers[kind](payload)

        return handle

    def handlers(self) -> dict[OutboxKind, Handler]:
        return {kind: self.handler_for(kind) for kind in OutboxKind}


def build_relay(settings: Settings, database: Database, relay_settings: RelaySettings | None = None) -> OutboxRelay:
    """The relay with every handler: Temporal's (reconnecting) and the database's own (no Temporal needed)."""
    handlers = ReconnectingHandlers(settings).handlers() | notification_handlers(database) | archive_handlers(database)
    return OutboxRelay(database, handlers, relay_settings)


async def run_relay(settings: Settings, database: Database, stop: asyncio.Event) -> None:
    log.info("outbox relay started")
    await build_relay(settings, database).run(stop)
