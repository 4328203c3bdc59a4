"""Department intake in the worker process: the router (route, match, open the triage case) and the
webhook dispatcher, both polling the database after commit beside the outbox relay."""

from __future__ import annotations

import asyncio
import logging

from backend.db.engine import Database
from backend.intake.routing import IntakeRouter
from backend.intake.webhooks import WebhookDispatcher

log = logging.getLogger(__name__)


async def run_intake(database: Database, stop: asyncio.Event) -> None:
    log.info("intake router and webhook dispatcher started")
    await asyncio.gather(IntakeRouter(database).run(stop), WebhookDispatcher(database).run(stop))
