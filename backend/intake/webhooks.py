"""Status callbacks to department systems, signed as Standard Webhooks (https://www.standardwebhooks.com/):
recorded in the transaction that changes a notification's status, sent by the dispatcher after commit
(backend/intake/dispatcher.py).

Each status change is a `intake_webhook_deliveries` row written in the transaction that made the change; its id is
the event id, sent as `webhook-id` on every attempt (a retry reuses it, so a receiver drops duplicates) and inside
the JSON body as `event_id`. Every attempt carries:

- `webhook-id`: the event id
- `webhook-timestamp`: Unix seconds when this attempt was signed
- `webhook-signature`: `v1,` + base64(HMAC-SHA256(key, f"{webhook-id}.{webhook-timestamp}.{body}")), where the
  key is the base64 part of the client's `whsec_...` secret, decoded. During a secret rotation the previous secret
  signs too until its window ends: both signatures, space-separated; a receiver accepts either.

A secret registered before callbacks were Standard Webhooks (no `whsec_` prefix) keys the HMAC with its UTF-8
bytes; rotating it gives a `whsec_` secret.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from backend.authz.principal import Principal
from backend.core.clock import utc_now
from backend.core.crypto import personal_data_cipher
from backend.core.outbound import safe_outbound_url
from backend.intake.errors import DeliveryNotFound, NoSubscription
from backend.intake.repository import WebhookRepository
from backend.models import DeliveryStatus, IntakeNotification, WebhookDelivery, WebhookSubscription

WEBHOOK_SECRET_CONTEXT = "intake.webhook_secret"
ID_HEADER = "webhook-id"
TIMESTAMP_HEADER = "webhook-timestamp"
SIGNATURE_HEADER = "webhook-signature"
SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32
ROTATION_WINDOW = timedelta(hours=24)
"""How long the previous secret keeps signing after a rotation: time for the department to deploy the new one."""


def new_secret() -> str:
    """A Standard Webhooks secret: `whsec_` + base64 of 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def signing_key(secret: str) -> bytes:
    """The HMAC key of a secret: the decoded base64 after `whsec_` (a secret from before keys with its bytes)."""
    if secret.startswith(SECRET_PREFIX):
        return base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    return secret.encode()


def signature(secret: str, webhook_id: str, timestamp: int, body: bytes) -> str:
    """One `v1,<base64>` signature of an attempt."""
    content = f"{webhook_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(signing_key(secret), content, hashlib.sha256).digest()).decode()


def signature_header(signing_secrets: Sequence[str], webhook_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` value: one signature per secret in force, space-separated."""
    return " ".join(signature(secret, webhook_id, timestamp, body) for secret in signing_secrets)


def status_event_body(notification: IntakeNotification, event_id: uuid.UUID) -> dict[str, Any]:
    """What a callback tells the department about its notification's status."""
    return {
        "event_id": str(event_id),
        "notification_id": str(notification.id),
        "transaction_id": notification.transaction_id,
        "type": notification.notification_type,
        "status": notification.status,
        "case_number": notification.case_number,
        "rejection_reason": notification.rejection_reason,
        "occurred_at": utc_now().isoformat(),
    }


def enqueue_status_event(
    session: AsyncSession, notification: IntakeNotification, *, origin_tenant_id: uuid.UUID | None
) -> WebhookDelivery:
    """Record a callback in the transaction that changes the status; the dispatcher sends it after commit."""
    event_id = uuid.uuid4()
    now = utc_now()
    delivery = WebhookDelivery(
        id=event_id,
        client_id=notification.client_id,
        notification_id=notification.id,
        origin_tenant_id=origin_tenant_id,
        event=notification.status,
        body=status_event_body(notification, event_id),
        status=DeliveryStatus.pending.value,
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )
    session.add(delivery)
    return delivery


def _encrypt(secret: str) -> bytes:
    return personal_data_cipher().encrypt(secret, context=WEBHOOK_SECRET_CONTEXT)


def _decrypt(ciphertext: bytes) -> str:
    return personal_data_cipher().decrypt(ciphertext, context=WEBHOOK_SECRET_CONTEXT)


async def register_webhook(session: AsyncSession, principal: Principal, url: str) -> str:
    """Register (or replace) the client's callback URL; returns a new signing secret, shown once, in force at once
    (the previous one stops: a re-registration is also how a leaked secret is revoked). The URL must meet the
    outbound policy (backend/core/outbound.py: https, a public host), or it is refused with 422."""
    await safe_outbound_url(url, field_name="url")
    secret = new_secret()
    repository = WebhookRepository(session)
    subscription = await repository.subscription(principal.id)
    if subscription is None:
        ciphertext = _encrypt(secret)
        session.add(
            WebhookSubscription(
                id=uuid.uuid4(), client_id=principal.id, url=url, secret_encrypted=ciphertext, created_at=utc_now()
            )
        )
    else:
        subscription.url, subscription.secret_encrypted = url, _encrypt(secret)
        subscription.previous_secret_encrypted = subscription.previous_secret_expires_at = None
    await session.flush()
    return secret


async def rotate_secret(session: AsyncSession, principal: Principal) -> tuple[str, datetime]:
    """A new signing secret for the client's callback URL; the current one keeps signing beside it until the
    returned moment (ROTATION_WINDOW). 404 when no URL is registered."""
    subscription = await WebhookRepository(session).subscription(principal.id)
    if subscription is None:
        raise NoSubscription()
    secret = new_secret()
    valid_until = utc_now() + ROTATION_WINDOW
    subscription.previous_secret_encrypted = subscription.secret_encrypted
    subscription.previous_secret_expires_at = valid_until
    subscription.secret_encrypted = _encrypt(secret)
    await session.flush()
    return secret, valid_until


def signing_secrets(subscription: WebhookSubscription, now: datetime) -> tuple[str, ...]:
    """The secrets that sign an attempt at `now`: the current one, and the previous one during its window."""
    current = _decrypt(subscription.secret_encrypted)
    previous, expires = subscription.previous_secret_encrypted, subscription.previous_secret_expires_at
    if previous is not None and expires is not None and expires > now:
        return current, _decrypt(previous)
    return (current,)


async def dead_letters(session: AsyncSession) -> list[WebhookDelivery]:
    """Callbacks that gave up after their last attempt (platform context)."""
    return await WebhookRepository(session).by_status(DeliveryStatus.dead.value)


async def resend(session: AsyncSession, delivery_id: uuid.UUID) -> WebhookDelivery:
    """Put a dead-lettered callback back in the queue with a fresh retry budget (platform context); it keeps its
    event id."""
    delivery = await WebhookRepository(session).get(delivery_id)
    if delivery is None:
        raise DeliveryNotFound()
    delivery.status, delivery.attempts, delivery.next_attempt_at = DeliveryStatus.pending.value, 0, utc_now()
    delivery.leased_until = None
    await session.flush()
    return delivery
