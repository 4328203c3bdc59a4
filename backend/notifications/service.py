"""Telling people what waits for them: `notify()` is called by the service where the event happens, in the same
transaction. When the people to tell are in this county their notifications are written at once; when they are in
another county (a verification request to county B, its answer back to county A) an outbox message carries the
event, and the relay writes them in that county (`fan_out` in its own transaction), once: each person is told of
an event once (unique dedup key), however often the message is performed.

Reading: a user's own notifications, newest first, the unread count, marking one or all read.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from backend.authz.principal import Principal
from backend.core import outbox
from backend.core.clock import utc_now
from backend.core.pagination import Page, PageParams
from backend.db.tenancy import current_tenant_id
from backend.models import Notification
from backend.notifications import rules
from backend.notifications.delivery import service as delivery
from backend.notifications.errors import NotificationNotFound
from backend.notifications.repository import NotificationRepository
from backend.notifications.schemas import NotificationEvent, NotificationRead


async def notify(session: AsyncSession, event: NotificationEvent) -> None:
    """Tell the people `event` names, in this transaction (this county) or through the outbox (another)."""
    if event.tenant_id == current_tenant_id(session):
        await fan_out(session, event)
        return
    await outbox.enqueue(session, outbox.NotifyCounty(tenant_id=event.tenant_id, event=event.model_dump(mode="json")))


def _rows(event: NotificationEvent, user_ids: list[uuid.UUID], now: datetime) -> list[dict[str, Any]]:
    """The notifications of `event`, one per recipient, as written."""
    return [
        {
            "id": uuid.uuid4(),
            "user_id": user_id,
            "kind": event.kind.value,
            "dedup_key": event.dedup_key,
            "title": event.title,
            "link": event.link,
            "reference": event.reference,
            "org_unit_code": event.unit_code,
            "created_at": now,
        }
        for user_id in user_ids
    ]


async def fan_out(session: AsyncSession, event: NotificationEvent) -> int:
    """Write one notification per recipient in the transaction's county (the event's); how many were new."""
    repository = NotificationRepository(session)
    rows = _rows(event, await rules.recipients(repository, event), utc_now())
    new = set(await repository.add_once(rows))
    # Delivery beyond the bell: a row per channel the person chose, in this transaction.
    await delivery.plan(session, event, [row for row in rows if row["id"] in new])
    return len(new)


# What an event's recipients depend on (its rule's inputs); events alike in these have the same recipients.
_RECIPIENT_INPUTS = {"kind", "tenant_id", "unit_code", "assignee_id", "case_id", "actor_id", "level"}
_ADD_CHUNK = 1000


async def notify_all(session: AsyncSession, events: Sequence[NotificationEvent]) -> None:
    """`notify` for many events at once (a router opening hundreds of cases): the recipients of events alike in
    their rule's inputs looked up once, this county's notifications written together; another county's events go
    through the outbox as with `notify`. Deliveries are planned per event, as `fan_out` does."""
    here = current_tenant_id(session)
    repository = NotificationRepository(session)
    recipients: dict[str, list[uuid.UUID]] = {}
    now = utc_now()
    planned: list[tuple[NotificationEvent, list[dict[str, Any]]]] = []
    for event in events:
        if event.tenant_id != here:
            await notify(session, event)
            continue
        key = event.model_dump_json(include=_RECIPIENT_INPUTS)
        if key not in recipients:
            recipients[key] = await rules.recipients(repository, event)
        planned.append((event, _rows(event, recipients[key], now)))
    rows = [row for _, event_rows in planned for row in event_rows]
    new: set[uuid.UUID] = set()
    for start in range(0, len(rows), _ADD_CHUNK):
        new.update(await repository.add_once(rows[start : start + _ADD_CHUNK]))
    for event, event_rows in planned:
        await delivery.plan(session, event, [row for row in event_rows if row["id"] in new])


async def dealt_with(session: AsyncSession, dedup_key: str) -> int:
    """The item an event asked about was dealt with (a request answered): its notifications in this county are
    marked read, whoever was told; how many were unread."""
    return await NotificationRepository(session).mark_event_read(dedup_key, utc_now())


def _user_id(principal: Principal) -> uuid.UUID:
    if principal.kind != "user":
        raise NotificationNotFound()
    return uuid.UUID(principal.id)


async def mine(
    session: AsyncSession, principal: Principal, paging: PageParams, *, unread_only: bool = False
) -> Page[NotificationRead]:
    """The caller's notifications, newest first."""
    rows, total = await NotificationRepository(session).of_user(
        _user_id(principal), unread_only=unread_only, offset=paging.offset, limit=paging.size
    )
    return Page[NotificationRead].of(rows, total, paging, NotificationRead.model_validate)


async def unread_count(session: AsyncSession, principal: Principal) -> int:
    """How many of the caller's notifications are unread (0 for a department client)."""
    if principal.kind != "user":
        return 0
    return await NotificationRepository(session).unread_count(uuid.UUID(principal.id))


async def mark_read(session: AsyncSession, principal: Principal, notification_id: uuid.UUID) -> Notification:
    """Mark one of the caller's notifications read (someone else's is a 404)."""
    row = await NotificationRepository(session).of_user_by_id(_user_id(principal), notification_id)
    if row is None:
        raise NotificationNotFound()
    if row.read_at is None:
        row.read_at = utc_now()
        await session.flush()
    return row


async def mark_all_read(session: AsyncSession, principal: Principal) -> int:
    """Mark every unread notification of the caller read; how many were."""
    return await NotificationRepository(session).mark_all_read(_user_id(principal), utc_now())
