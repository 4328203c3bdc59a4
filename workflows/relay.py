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
    message fails fast and is retried with backoff; the first message after it is back reconnects.

    Given the worker's own client (`shared`), the handlers use it and never reconnect it (its connection
    retries by itself): starting a workflow over the connection the case worker polls on lets Temporal hand the
    workflow's first task straight back to this process (eager workflow start) instead of through a poll."""

    def __init__(self, settings: Settings, shared: Client | None = None) -> None:
        self.settings = settings
        self._shared = shared
        self._client: Client | None = shared
        self._handlers: dict[OutboxKind, Handler] = case_handlers(shared) if shared is not None else {}

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
                self._client = self._shared
                raise
            return await handlers[kind](payload)

        return handle

    def handlers(self) -> dict[OutboxKind, Handler]:
        return {kind: self.handler_for(kind) for kind in OutboxKind}


def build_relay(
    settings: Settings,
    database: Database,
    relay_settings: RelaySettings | None = None,
    client: Client | None = None,
) -> OutboxRelay:
    """The relay with every handler: Temporal's (on the worker's `client`, or reconnecting on a client of their own)
    and the database's own (no Temporal needed)."""
    temporal = ReconnectingHandlers(settings, client).handlers()
    handlers = temporal | notification_handlers(database) | archive_handlers(database)
    return OutboxRelay(database, handlers, relay_settings)


async def run_relay(settings: Settings, database: Database, stop: asyncio.Event, client: Client | None = None) -> None:
    log.info("outbox relay started")
    await build_relay(settings, database, client=client).run(stop)
