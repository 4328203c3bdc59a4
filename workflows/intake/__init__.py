"""Department intake in the worker process: the router (route, match, open the triage case) and the
webhook dispatcher, both polling the database after commit beside the outbox relay."""

from __future__ import annotations

import asyncio
import logging

from backend.core.outbound import OutboundPolicy
from backend.db.engine import Database
from backend.intake.dispatcher import WebhookDispatcher
from backend.intake.routing import IntakeRouter

log = logging.getLogger(__name__)


async def run_intake(database: Database, stop: asyncio.Event, policy: OutboundPolicy | None = None) -> None:
    """`policy`: where callbacks may go (the worker's settings); every delivery is checked against it."""
    log.info("intake router and webhook dispatcher started")
    dispatcher = WebhookDispatcher(database, policy=policy)
    await asyncio.gather(IntakeRouter(database).run(stop), dispatcher.run(stop))
