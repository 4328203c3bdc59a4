"""Notifications are kept 180 days (issue #19): a sweep in the worker deletes older rows, one county per
transaction, recorded as one audit event per county and pass (how many, written before when), never row by row.

`NotificationRetention` runs beside the KPI refresher in the worker (workflows/worker.py), a pass an hour; a
county with nothing to delete writes nothing."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from backend.audit import service as audit
from backend.core.clock import utc_now
from backend.core.context import SYSTEM_ACTOR, actor_var
from backend.core.polling import PollingWorker, PollSettings
from backend.db.engine import Database
from backend.db.tenancy import current_tenant_id, set_platform_context, set_tenant
from backend.notifications.repository import NotificationRepository
from backend.tenants import service as tenants

log = logging.getLogger(__name__)

RETENTION = timedelta(days=180)
RETENTION_ACTION = "notification.retention"
PASS_SECONDS = 3600.0


async def delete_expired(session: AsyncSession, now: datetime) -> int:
    """Delete the transaction's county's notifications older than the retention period, audited as one batch
    event; how many were deleted."""
    cutoff = now - RETENTION
    deleted = await NotificationRepository(session).delete_created_before(cutoff)
    if deleted:
        await audit.record(
            session,
            action=RETENTION_ACTION,
            entity_type="notification",
            entity_id=str(current_tenant_id(session)),
            changes={"deleted": deleted, "created_before": cutoff.isoformat(), "retention_days": RETENTION.days},
            reason="通知保存180天 / notifications are kept 180 days",
        )
    return deleted


class NotificationRetention(PollingWorker):
    """Deletes every county's expired notifications, a pass an hour (the deletes are cheap when nothing expired)."""

    name = "notification retention"

    def __init__(self, database: Database, settings: PollSettings | None = None) -> None:
        super().__init__(settings or PollSettings(idle_poll_seconds=PASS_SECONDS), database)

    async def poll(self) -> int:
        actor_var.set(SYSTEM_ACTOR)
        async with self.database.sessionmaker() as session, session.begin():
            await set_platform_context(session)
            counties = [(tenant.id, tenant.code) for tenant in await tenants.list_tenants(session)]
        for tenant_id, code in counties:
            async with self.database.sessionmaker() as session, session.begin():
                await set_tenant(session, tenant_id)
                deleted = await delete_expired(session, utc_now())
            if deleted:
                log.info("expired notifications deleted", extra={"tenant": code, "rows": deleted})
        return 0  # a pass covers every county: wait for the next one
