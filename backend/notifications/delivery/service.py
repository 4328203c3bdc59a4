"""Delivery rows and their fate.

`plan()` is called where notification rows are written (`backend/notifications/service.py` `fan_out`), in the
same transaction: for each new notification and each channel its person chose for its kind, one
`notification_deliveries` row (idempotency key `lg-<notification>-<channel>`, unique) and one outbox message that
starts its delivery workflow after commit.

The activity (workflows/notifications/activities.py) then calls, each in its own short transaction:
`begin_send()` (marks the row `sending`, counts the attempt, builds the driver, the message and the recipient;
None when the row is already `sent`), the driver's send outside any transaction, then `mark_sent()` or
`record_error()`; after the last retry the workflow calls `mark_failed()`.

Exactly once? Not on the wire: a worker killed after the receiver accepted a message and before `mark_sent()`
committed sends it again on the retry (at-least-once). The retry carries the same idempotency key (Message-ID,
gateway `request_id`), so a receiver that deduplicates on it (the SMS gateway contract) delivers it once; an
SMTP server does not deduplicate, so an e-mail can arrive twice after such a crash (same Message-ID, which mail
clients collapse). docs/operations.md says this plainly.

The county admin lists the `failed` (and `pending`) rows and retries them: a new round with a new workflow.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from backend.audit import service as audit
from backend.authz.principal import Principal
from backend.calendar.service import load_calendar
from backend.config import get_settings
from backend.core import outbox
from backend.core.clock import CHINA, utc_now
from backend.core.outbound import OutboundPolicy
from backend.core.pagination import Page, PageParams
from backend.db.tenancy import current_tenant_id
from backend.models import NotificationDelivery
from backend.notifications.delivery import settings as channel_settings
from backend.notifications.delivery.channels import (
    ChannelKind,
    DeliveryChannel,
    OutgoingMessage,
    Recipient,
)
from backend.notifications.delivery.preferences import after_quiet_hours, next_digest, phone_of
from backend.notifications.delivery.repository import DeliveryRepository
from backend.notifications.delivery.schemas import ChannelDeliveryRead
from backend.notifications.errors import NotificationNotFound
from backend.notifications.schemas import KIND_LABELS, NotificationEvent

PENDING, SENDING, SENT, FAILED = "pending", "sending", "sent", "failed"
ERROR_LENGTH = 500


def idempotency_key(notification_id: uuid.UUID, channel: ChannelKind) -> str:
    return f"lg-{notification_id.hex}-{channel.value}"


async def plan(session: AsyncSession, event: NotificationEvent, rows: Sequence[dict[str, Any]]) -> int:
    """One delivery per new notification (`rows`, as written) and channel its person chose; how many."""
    if not rows:
        return 0
    repository = DeliveryRepository(session)
    preferences = await repository.preferences_of([row["user_id"] for row in rows])
    now = utc_now()
    digest_at: datetime | None = None
    deliveries: list[NotificationDelivery] = []
    for row in rows:
        preference = preferences.get(row["user_id"])
        if preference is None:
            continue
        if preference.digest:
            digest_at = digest_at or next_digest(await load_calendar(session), now)
        due = (
            digest_at
            if preference.digest and digest_at
            else after_quiet_hours(now, preference.quiet_start, preference.quiet_end)
        )
        for name in preference.channels.get(event.kind.value, []):
            channel = ChannelKind(name)
            deliveries.append(
                NotificationDelivery(
                    id=uuid.uuid4(),
                    tenant_id=repository.tenant_id,
                    notification_id=row["id"],
                    user_id=row["user_id"],
                    channel=channel.value,
                    idempotency_key=idempotency_key(row["id"], channel),
                    status=PENDING,
                    due_at=due,
                    digest=preference.digest,
                    attempts=0,
                    round=0,
                    created_at=now,
                )
            )
    repository.add_all(deliveries)
    await repository.flush()
    for delivery in deliveries:
        await _enqueue(session, delivery)
    return len(deliveries)


async def _enqueue(session: AsyncSession, delivery: NotificationDelivery) -> None:
    await outbox.enqueue(
        session,
        outbox.DeliverNotification(
            tenant_id=current_tenant_id(session),
            delivery_id=delivery.id,
            idempotency_key=delivery.idempotency_key,
            round=delivery.round,
            due_at=delivery.due_at,
            digest_of=digest_of(delivery) if delivery.digest else None,
        ),
    )


def digest_of(delivery: NotificationDelivery) -> str:
    """The daily digest a delivery belongs to: person, channel and moment (one workflow and message each)."""
    return f"{delivery.user_id.hex}-{delivery.channel}-{delivery.due_at.astimezone(CHINA):%Y%m%d%H%M}"


@dataclass(frozen=True, slots=True)
class SendJob:
    """What one attempt sends, built in a transaction and sent outside it."""

    driver: DeliveryChannel | None  # None: the county has not set up the channel
    channel: ChannelKind
    message: OutgoingMessage
    recipient: Recipient
    resent: bool  # a previous attempt died between marking `sending` and the outcome
    delivery_ids: tuple[uuid.UUID, ...]  # what this message delivers: one, or a digest's


def absolute(link: str) -> str:
    return get_settings().public_base_url.rstrip("/") + link


def _kind_label(kind: str) -> str:
    return next((label for each, label in KIND_LABELS.items() if each.value == kind), "")


async def begin_send(session: AsyncSession, delivery_id: uuid.UUID, policy: OutboundPolicy) -> SendJob | None:
    """Mark the delivery (a digest: every unsent one of its batch) `sending` and count the attempt; what to send,
    or None when there is nothing left to send."""
    repository = DeliveryRepository(session)
    found = await repository.for_send(delivery_id)
    if found is None:
        raise NotificationNotFound()
    delivery, notification = found
    batch = await repository.digest_batch(delivery) if delivery.digest else [found]
    if delivery.status == SENT or not batch:
        return None
    resent = any(each.status == SENDING for each, _ in batch)
    for each, _ in batch:
        each.status = SENDING
        each.attempts += 1
    preference = (await repository.preferences_of([delivery.user_id])).get(delivery.user_id)
    channel = ChannelKind(delivery.channel)
    recipient = Recipient(
        email=preference.email if preference else None, phone=phone_of(preference) if preference else None
    )
    if delivery.digest:
        message = OutgoingMessage(
            idempotency_key=f"lg-digest-{digest_of(delivery)}",
            kind_label="每日汇总 / Daily digest",
            title=f"今日待办通知 {len(batch)} 条 / {len(batch)} notifications today",
            reference=None,
            link=absolute("/notifications"),
            lines=tuple(each.title.split(" / ", 1)[0] for _, each in batch),
        )
    else:
        message = OutgoingMessage(
            idempotency_key=delivery.idempotency_key,
            kind_label=_kind_label(notification.kind),
            title=notification.title,
            reference=notification.reference,
            link=absolute(notification.link),
        )
    driver = (await channel_settings.channels(session, policy)).get(channel)
    await repository.flush()
    return SendJob(driver, channel, message, recipient, resent, tuple(each.id for each, _ in batch))


async def _batch(session: AsyncSession, delivery_ids: Sequence[uuid.UUID]) -> list[NotificationDelivery]:
    rows = await DeliveryRepository(session).by_ids(delivery_ids)
    if not rows:
        raise NotificationNotFound()
    return rows


async def mark_sent(session: AsyncSession, delivery_ids: Sequence[uuid.UUID]) -> None:
    now = utc_now()
    for delivery in await _batch(session, delivery_ids):
        delivery.status, delivery.sent_at, delivery.last_error = SENT, now, None
    await session.flush()


async def record_error(session: AsyncSession, delivery_ids: Sequence[uuid.UUID], reason: str) -> None:
    """An attempt failed; the rows wait for the next retry (`pending`) with the reason."""
    for delivery in await _batch(session, delivery_ids):
        if delivery.status != SENT:
            delivery.status, delivery.last_error = PENDING, reason[:ERROR_LENGTH]
    await session.flush()


async def mark_failed(session: AsyncSession, delivery_id: uuid.UUID, reason: str) -> None:
    """The last retry failed: `failed` with the reason (a digest: its whole batch), for the county admin
    (audited)."""
    repository = DeliveryRepository(session)
    found = await repository.for_send(delivery_id)
    if found is None:
        raise NotificationNotFound()
    batch = [each for each, _ in await repository.digest_batch(found[0])] if found[0].digest else [found[0]]
    for delivery in batch:
        if delivery.status == SENT:
            continue
        delivery.status, delivery.last_error = FAILED, reason[:ERROR_LENGTH]
        await session.flush()
        await audit.record(
            session,
            action="notification_delivery.failed",
            entity_type=DeliveryRepository.entity_type,
            entity_id=delivery.id,
            changes={"channel": delivery.channel, "attempts": delivery.attempts, "reason": delivery.last_error},
        )


async def deliveries(session: AsyncSession, statuses: Sequence[str], paging: PageParams) -> Page[ChannelDeliveryRead]:
    """The county's deliveries in these states, newest first (the admin's list)."""
    rows, total = await DeliveryRepository(session).with_status(statuses, offset=paging.offset, limit=paging.size)
    return Page[ChannelDeliveryRead].of(rows, total, paging, ChannelDeliveryRead.model_validate)


async def retry(session: AsyncSession, principal: Principal, delivery_id: uuid.UUID) -> NotificationDelivery:
    """Send a failed (or stuck pending) delivery again: a new round, a new workflow, the same idempotency key.
    A sent one is left as it is. Audited."""
    repository = DeliveryRepository(session)
    found = await repository.for_send(delivery_id)
    if found is None:
        raise NotificationNotFound()
    delivery = found[0]
    if delivery.status == SENT:
        return delivery
    delivery.status, delivery.round, delivery.due_at = PENDING, delivery.round + 1, utc_now()
    await repository.flush()
    await _enqueue(session, delivery)
    await audit.record(
        session,
        action="notification_delivery.retry",
        entity_type=DeliveryRepository.entity_type,
        entity_id=delivery.id,
        changes={"round": delivery.round, "last_error": delivery.last_error},
    )
    return delivery
