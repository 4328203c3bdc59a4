"""The intake router: after commit, each `received` notification is routed to its county and township,
matched against the registry by ID number, and gets a triage case — or goes to the holding queue when its
county is not on this instance.

Exactly once: the router claims notifications with FOR UPDATE SKIP LOCKED in the platform context, and in
the same transaction (scoped to the county as well) opens the case, writes the county's triage copy and
moves the notification to `case_opened` — for a county's notifications of one pass together
(`opening.open_triage_cases`, a few statements for the group), and one by one (`opening.open_triage_case`, a
savepoint each) when the group fails. A crash before commit undoes all of it
and the notification is claimed again; a crash after commit leaves nothing to do. `intake_triages.notification_id`
is unique as a second guard. A notification that fails (e.g. the county's unit is gone) is retried with backoff.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from backend.core.clock import utc_now
from backend.core.context import actor_var
from backend.core.polling import PollingWorker, PollSettings, error_text
from backend.db.engine import Database
from backend.db.tenancy import set_platform_context
from backend.intake.opening import ROUTER_ACTOR, open_triage_case, open_triage_cases
from backend.intake.repository import NotificationRepository, WebhookRepository
from backend.intake.webhooks import enqueue_status_event
from backend.models import IntakeNotification, NotificationStatus
from backend.tenants.directory import DivisionRoute, route_division

log = logging.getLogger(__name__)
NOTIFY_CHANNEL = "liuguan_intake"
"""Every insert into `intake_notifications` notifies this channel at commit (a statement trigger, migration 0015)."""


@dataclass
class RouterSettings(PollSettings):
    """Up to 500 notifications a pass (each county's routed together), a failed notification retried after 2 s
    doubling to 10 min."""

    batch_size: int = 500
    base_backoff_seconds: float = 2.0
    max_backoff_seconds: float = 600.0


class IntakeRouter(PollingWorker):
    name = "intake router"
    notify_channel = NOTIFY_CHANNEL

    def __init__(self, database: Database, settings: RouterSettings | None = None) -> None:
        super().__init__(settings or RouterSettings(), database)

    async def poll(self) -> int:
        """Route up to a batch of due notifications in one transaction; returns how many were claimed. The
        notifications of each county are routed together (`open_triage_cases`, in a savepoint); if that fails,
        that county's are routed one by one, each in its own savepoint, so a bad one only delays itself."""
        actor_var.set(ROUTER_ACTOR)
        async with self.database.sessionmaker() as session, session.begin():
            await set_platform_context(session)
            claimed = await NotificationRepository(session).claim_pending(utc_now(), self.settings.batch_size)
            routes: dict[str, DivisionRoute] = {}
            counties: dict[uuid.UUID, list[tuple[IntakeNotification, DivisionRoute]]] = {}
            routed: list[IntakeNotification] = []
            for notification in claimed:
                route = routes.get(notification.division_code)
                if route is None:
                    route = routes[notification.division_code] = await route_division(
                        self.database, notification.division_code
                    )
                if route.tenant_id is not None:
                    counties.setdefault(route.tenant_id, []).append((notification, route))
                elif await self._route(session, notification, route):
                    routed.append(notification)
            # Counties in one order for every router: each holds a county's counter and audit head until commit.
            for tenant_id in sorted(counties):
                routed += await self._route_county(session, counties[tenant_id])
            webhooks = WebhookRepository(session)
            subscribed: dict[str, bool] = {}
            for notification in routed:
                if notification.client_id not in subscribed:
                    subscribed[notification.client_id] = await webhooks.subscription(notification.client_id) is not None
                if subscribed[notification.client_id]:
                    enqueue_status_event(session, notification, origin_tenant_id=None)
            await session.flush()
            return len(claimed)

    async def _route_county(
        self, session: AsyncSession, group: list[tuple[IntakeNotification, DivisionRoute]]
    ) -> list[IntakeNotification]:
        """One county's notifications together in a savepoint; on a failure, one by one. Returns those routed."""
        try:
            async with session.begin_nested():
                await open_triage_cases(session, group)
            return [notification for notification, _ in group]
        except Exception as error:
            log.warning(
                "a county's intake notifications not routed together; routing them one by one",
                extra={"tenant_id": str(group[0][1].tenant_id), "error": repr(error)},
            )
        routed = []
        for notification, route in group:
            await session.refresh(notification)  # the savepoint's rollback expired what it had changed
            if await self._route(session, notification, route):
                routed.append(notification)
        return routed

    async def _route(self, session: AsyncSession, notification: IntakeNotification, route: DivisionRoute) -> bool:
        """Open the triage case (or hold the notification) in a savepoint; on a failure, schedule the retry and
        answer False."""
        try:
            async with session.begin_nested():
                if route.on_platform:
                    await open_triage_case(session, notification, route)
                else:
                    notification.status = NotificationStatus.held.value
                    await session.flush()
        except Exception as error:
            log.warning(
                "intake notification not routed; will retry",
                extra={"notification_id": str(notification.id), "error": repr(error)},
            )
            await session.refresh(notification)
            notification.route_attempts += 1
            notification.route_error = error_text(error)
            notification.available_at = utc_now() + self.backoff(notification.route_attempts)
            await session.flush()
            return False
        return True

    async def drain(self) -> int:
        """Route everything due now; returns how many notifications were claimed."""
        total = 0
        while (claimed := await self.poll()) > 0:
            total += claimed
        return total


async def held_notifications(session: AsyncSession, *, offset: int, limit: int) -> list[IntakeNotification]:
    """The holding queue (platform context): counties not on this instance."""
    return await NotificationRepository(session).held(offset=offset, limit=limit)


async def release_held(session: AsyncSession) -> int:
    """After a county joins the instance: send the holding queue through the router again. Notifications
    whose county is still absent go back to `held`; the others are routed like new ones."""
    return await NotificationRepository(session).release_held(utc_now())
