"""Status callbacks to department systems, sent by the worker after commit.

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

import asyncio
import hashlib
import hmac
import json
import logging
from dataclasses import dataclass
from datetime import timedelta

import httpx

from backend.core.clock import utc_now
from backend.db.engine import Database
from backend.db.tenancy import set_platform_context
from backend.intake.repository import WebhookRepository
from backend.intake.service import subscription_secret
from backend.models import DeliveryStatus, WebhookDelivery

log = logging.getLogger(__name__)

EVENT_ID_HEADER = "X-Liuguan-Event-Id"
TIMESTAMP_HEADER = "X-Liuguan-Timestamp"
SIGNATURE_HEADER = "X-Liuguan-Signature"


def sign(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"v1={digest}"


def verify_signature(secret: str, timestamp: str, body: bytes, signature: str) -> bool:
    """What a receiver does (also documented in docs/api.md); check the timestamp's age too."""
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


@dataclass
class WebhookSettings:
    max_attempts: int = 8
    base_backoff_seconds: float = 5.0
    max_backoff_seconds: float = 3600.0
    timeout_seconds: float = 10.0
    batch_size: int = 20
    idle_poll_seconds: float = 1.0


class WebhookDispatcher:
    def __init__(self, database: Database, settings: WebhookSettings | None = None) -> None:
        self.database = database
        self.settings = settings or WebhookSettings()

    def backoff(self, attempts: int) -> timedelta:
        seconds = self.settings.base_backoff_seconds * 2 ** (attempts - 1)
        return timedelta(seconds=min(seconds, self.settings.max_backoff_seconds))

    async def _send(self, client: httpx.AsyncClient, url: str, secret: str, delivery: WebhookDelivery) -> None:
        body = json.dumps(delivery.body, ensure_ascii=False, separators=(",", ":")).encode()
        timestamp = str(int(utc_now().timestamp()))
        response = await client.post(
            url,
            content=body,
            headers={
                "Content-Type": "application/json",
                EVENT_ID_HEADER: str(delivery.id),
                TIMESTAMP_HEADER: timestamp,
                SIGNATURE_HEADER: sign(secret, timestamp, body),
            },
        )
        if not response.is_success:
            raise RuntimeError(f"HTTP {response.status_code}")

    async def dispatch_batch(self) -> int:
        """Attempt every due delivery once; returns how many were attempted."""
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
                        delivery.last_error = f"{type(error).__name__}: {error}"[:2000]
                        if delivery.attempts >= self.settings.max_attempts:
                            delivery.status = DeliveryStatus.dead.value
                            log.warning("webhook dead-lettered", extra={"delivery_id": str(delivery.id)})
                        else:
                            delivery.next_attempt_at = utc_now() + self.backoff(delivery.attempts)
                        continue
                    delivery.status, delivery.delivered_at = DeliveryStatus.delivered.value, utc_now()
            return len(due)

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                attempted = await self.dispatch_batch()
            except Exception:
                log.exception("webhook dispatch pass failed")
                attempted = 0
            if attempted == 0:
                try:
                    await asyncio.wait_for(stop.wait(), self.settings.idle_poll_seconds)
                except TimeoutError:
                    pass
