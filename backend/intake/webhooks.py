"""Status callbacks to department systems: recorded in the transaction that changes a notification's status,
sent by the worker after commit.

Each status change is a `intake_webhook_deliveries` row written in the transaction that made the change
(its id is the event id, so a receiver can drop duplicates). The dispatcher POSTs the JSON body with:

- `X-Liuguan-Event-Id`: the event id
- `X-Liuguan-Timestamp`: Unix seconds when this attempt was signed
- `X-Liuguan-Signature`: `v1=` + hex HMAC-SHA256 over `timestamp + "." + body`, keyed with the secret the
  client received when it registered its URL

A 2xx answer marks it delivered; anything else (or a timeout) is retried after base * 2^(attempts-1)
seconds, up to `max_attempts`; then it is parked as `dead` (the dead-letter list), which a platform admin
can resend.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from backend.authz.principal import Principal
from backend.core.clock import utc_now
from backend.core.crypto import personal_data_cipher
from backend.core.metrics import CALLBACK_ATTEMPTS
from backend.core.outbound import OutboundPolicy, Resolver, UnsafeOutboundUrl, safe_outbound_url
from backend.core.polling import PollingWorker, PollSettings, error_text
from backend.db.engine import Database
from backend.db.tenancy import set_platform_context
from backend.intake.errors import DeliveryNotFound
from backend.intake.repository import WebhookRepository
from backend.models import DeliveryStatus, IntakeNotification, WebhookDelivery, WebhookSubscription

log = logging.getLogger(__name__)

WEBHOOK_SECRET_CONTEXT = "intake.webhook_secret"
EVENT_ID_HEADER = "X-Liuguan-Event-Id"
TIMESTAMP_HEADER = "X-Liuguan-Timestamp"
SIGNATURE_HEADER = "X-Liuguan-Signature"


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The signature header's value for one attempt."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"v1={digest}"


def verify_signature(secret: str, timestamp: str, body: bytes, signature: str) -> bool:
    """What a receiver does (also documented in docs/api.md); check the timestamp's age too."""
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


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
    """Record a callback in the transaction that changes the status; the worker sends it after commit."""
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


async def register_webhook(session: AsyncSession, principal: Principal, url: str) -> str:
    """Register (or replace) the client's callback URL; returns the new signing secret, shown once. The URL must
    meet the outbound policy (backend/core/outbound.py: https, a public host), or it is refused with 422."""
    await safe_outbound_url(url, field_name="url")
    secret = secrets.token_urlsafe(32)
    ciphertext = personal_data_cipher().encrypt(secret, context=WEBHOOK_SECRET_CONTEXT)
    repository = WebhookRepository(session)
    subscription = await repository.subscription(principal.id)
    if subscription is None:
        session.add(
            WebhookSubscription(
                id=uuid.uuid4(), client_id=principal.id, url=url, secret_encrypted=ciphertext, created_at=utc_now()
            )
        )
    else:
        subscription.url, subscription.secret_encrypted = url, ciphertext
    await session.flush()
    return secret


def subscription_secret(subscription: WebhookSubscription) -> str:
    """The signing secret of a client's callback URL."""
    return personal_data_cipher().decrypt(subscription.secret_encrypted, context=WEBHOOK_SECRET_CONTEXT)


async def dead_letters(session: AsyncSession) -> list[WebhookDelivery]:
    """Callbacks that gave up after their last attempt (platform context)."""
    return await WebhookRepository(session).by_status(DeliveryStatus.dead.value)


async def resend(session: AsyncSession, delivery_id: uuid.UUID) -> WebhookDelivery:
    """Put a dead-lettered callback back in the queue with a fresh retry budget (platform context)."""
    delivery = await WebhookRepository(session).get(delivery_id)
    if delivery is None:
        raise DeliveryNotFound()
    delivery.status, delivery.attempts, delivery.next_attempt_at = DeliveryStatus.pending.value, 0, utc_now()
    await session.flush()
    return delivery


@dataclass
class WebhookSettings(PollSettings):
    max_attempts: int = 8
    base_backoff_seconds: float = 5.0
    max_backoff_seconds: float = 3600.0
    timeout_seconds: float = 10.0
    batch_size: int = 20
    idle_poll_seconds: float = 1.0


class WebhookDispatcher(PollingWorker):
    name = "webhook dispatcher"
    settings: WebhookSettings

    def __init__(
        self,
        database: Database,
        settings: WebhookSettings | None = None,
        *,
        policy: OutboundPolicy | None = None,
        resolve: Resolver | None = None,
    ) -> None:
        super().__init__(settings or WebhookSettings(), database)
        self.policy = policy
        self.resolve = resolve

    async def _send(self, client: httpx.AsyncClient, url: str, secret: str, delivery: WebhookDelivery) -> None:
        # Checked again now, and sent to the address just checked: a name that resolves elsewhere since it was
        # registered (DNS rebinding) is refused, not followed. The attempt fails like an unreachable receiver.
        try:
            target = await safe_outbound_url(url, self.policy, resolve=self.resolve)
        except UnsafeOutboundUrl as refused:
            raise RuntimeError(f"refused by the outbound policy: {refused.reason}") from None
        body = json.dumps(delivery.body, ensure_ascii=False, separators=(",", ":")).encode()
        timestamp = str(int(utc_now().timestamp()))
        response = await client.post(
            target.url,
            content=body,
            headers={
                **target.headers,
                "Content-Type": "application/json",
                EVENT_ID_HEADER: str(delivery.id),
                TIMESTAMP_HEADER: timestamp,
                SIGNATURE_HEADER: sign(secret, timestamp, body),
            },
            extensions=target.extensions,
        )
        if not response.is_success:
            raise RuntimeError(f"HTTP {response.status_code}")

    async def poll(self) -> int:
        """Attempt every due delivery once (at most a batch); returns how many were attempted."""
        async with self.database.sessionmaker() as session, session.begin():
            await set_platform_context(session)
            repository = WebhookRepository(session)
            due = await repository.claim_due(utc_now(), self.settings.batch_size)
            async with httpx.AsyncClient(timeout=self.settings.timeout_seconds) as client:
                for delivery in due:
                    subscription = await repository.subscription(delivery.client_id)
                    if subscription is None:
                        delivery.status = DeliveryStatus.no_subscriber.value
                        continue
                    delivery.attempts += 1
                    try:
                        await self._send(client, subscription.url, subscription_secret(subscription), delivery)
                    except Exception as error:
                        CALLBACK_ATTEMPTS.labels("failed").inc()
                        delivery.last_error = error_text(error)
                        if delivery.attempts >= self.settings.max_attempts:
                            delivery.status = DeliveryStatus.dead.value
                            log.warning("webhook dead-lettered", extra={"delivery_id": str(delivery.id)})
                        else:
                            delivery.next_attempt_at = utc_now() + self.backoff(delivery.attempts)
                        continue
                    CALLBACK_ATTEMPTS.labels("delivered").inc()
                    delivery.status, delivery.delivered_at = DeliveryStatus.delivered.value, utc_now()
            return len(due)
