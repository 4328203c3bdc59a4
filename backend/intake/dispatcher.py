"""The callback dispatcher: sends the status callbacks (backend/intake/webhooks.py) concurrently, outside any
database transaction.

One pass (`poll`) has three steps:
1. claim: in a short transaction, the due callbacks (`FOR UPDATE SKIP LOCKED`, so several dispatchers share the
   work) are marked `in_flight` with a lease (`leased_until`) and an attempt counted; commit;
2. send: every claimed callback is POSTed at once, at most `concurrency` at a time, with no transaction open;
3. record: in another short transaction, each outcome is written on the callbacks this dispatcher still holds.
   A 2xx answer marks it delivered; anything else (or a timeout, or the outbound policy refusing the address)
   makes it due again after base * 2^(attempts-1) seconds, up to `max_attempts`, then it is parked as `dead` (the
   dead-letter list, which a platform admin can resend).

A dispatcher that dies between claim and record leaves its callbacks in flight: when the lease runs out they are
claimed again and sent with the same `webhook-id`, so the receiver can drop a duplicate.
"""

from __future__ import annotations

import asyncio
import json
import logging
import ssl
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

import httpx

from backend.core.clock import utc_now
from backend.core.metrics import CALLBACK_ATTEMPTS
from backend.core.outbound import OutboundPolicy, Resolver, UnsafeOutboundUrl, safe_outbound_url
from backend.core.polling import PollingWorker, PollSettings, error_text
from backend.db.engine import Database
from backend.db.tenancy import set_platform_context
from backend.intake.repository import WebhookRepository
from backend.intake.webhooks import ID_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, signature_header, signing_secrets
from backend.models import DeliveryStatus

log = logging.getLogger(__name__)


@cache
def _tls_context() -> ssl.SSLContext:
    """The certificate store, loaded once per process (building it is most of the cost of a new client)."""
    return httpx.create_ssl_context()


@dataclass
class WebhookSettings(PollSettings):
    max_attempts: int = 8
    base_backoff_seconds: float = 5.0
    max_backoff_seconds: float = 3600.0
    timeout_seconds: float = 10.0
    batch_size: int = 20
    concurrency: int = 10
    """Callbacks sent at the same time by one dispatcher."""
    lease_seconds: float = 300.0
    """How long a claimed callback stays with its dispatcher before another may send it (longer than a pass)."""
    idle_poll_seconds: float = 1.0


@dataclass(frozen=True)
class Attempt:
    """One claimed callback, as the send step needs it (no ORM object crosses the transactions)."""

    id: uuid.UUID
    url: str
    secrets: tuple[str, ...]
    body: bytes
    lease: datetime


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

    async def poll(self) -> int:
        """Claim the due callbacks (at most a batch), send them, record the outcomes; how many were claimed."""
        claimed, attempts = await self.claim()
        if attempts:
            await self.record(attempts, await self.send_all(attempts))
        return claimed

    async def claim(self) -> tuple[int, list[Attempt]]:
        """Step 1, one short transaction: lease the due callbacks; those whose client has no URL any more are
        closed as `no_subscriber`."""
        async with self.database.sessionmaker() as session, session.begin():
            await set_platform_context(session)
            repository = WebhookRepository(session)
            now = utc_now()
            lease = now + timedelta(seconds=self.settings.lease_seconds)
            due = await repository.claim_due(now, self.settings.batch_size)
            subscriptions = await repository.subscriptions([delivery.client_id for delivery in due])
            attempts: list[Attempt] = []
            for delivery in due:
                subscription = subscriptions.get(delivery.client_id)
                if subscription is None:
                    delivery.status, delivery.leased_until = DeliveryStatus.no_subscriber.value, None
                    continue
                delivery.status, delivery.leased_until = DeliveryStatus.in_flight.value, lease
                delivery.attempts += 1
                body = json.dumps(delivery.body, ensure_ascii=False, separators=(",", ":")).encode()
                attempts.append(Attempt(delivery.id, subscription.url, signing_secrets(subscription, now), body, lease))
            return len(due), attempts

    async def send_all(self, attempts: list[Attempt]) -> dict[uuid.UUID, str | None]:
        """Step 2, no transaction open: every attempt at once, at most `concurrency` at a time; each one's error
        text (None: delivered)."""
        limit = asyncio.Semaphore(self.settings.concurrency)
        limits = httpx.Limits(max_connections=self.settings.concurrency)

        async def one(client: httpx.AsyncClient, attempt: Attempt) -> str | None:
            async with limit:
                try:
                    await self._send(client, attempt)
                except Exception as error:
                    return error_text(error)
                return None

        async with httpx.AsyncClient(
            timeout=self.settings.timeout_seconds, limits=limits, verify=_tls_context()
        ) as client:
            outcomes = await asyncio.gather(*(one(client, attempt) for attempt in attempts))
        return {attempt.id: outcome for attempt, outcome in zip(attempts, outcomes, strict=True)}

    async def _send(self, client: httpx.AsyncClient, attempt: Attempt) -> None:
        # Checked again now, and sent to the address just checked: a name that resolves elsewhere since it was
        # registered (DNS rebinding) is refused, not followed. The attempt fails like an unreachable receiver.
        try:
            target = await safe_outbound_url(attempt.url, self.policy, resolve=self.resolve)
        except UnsafeOutboundUrl as refused:
            raise RuntimeError(f"refused by the outbound policy: {refused.reason}") from None
        webhook_id, timestamp = str(attempt.id), int(utc_now().timestamp())
        response = await client.post(
            target.url,
            content=attempt.body,
            headers={
                **target.headers,
                "Content-Type": "application/json",
                ID_HEADER: webhook_id,
                TIMESTAMP_HEADER: str(timestamp),
                SIGNATURE_HEADER: signature_header(attempt.secrets, webhook_id, timestamp, attempt.body),
            },
            extensions=target.extensions,
        )
        if not response.is_success:
            raise RuntimeError(f"HTTP {response.status_code}")

    async def record(self, attempts: list[Attempt], outcomes: dict[uuid.UUID, str | None]) -> None:
        """Step 3, one short transaction: the outcome of each callback this dispatcher still holds (a lease that
        ran out and was taken by another dispatcher is left to it)."""
        async with self.database.sessionmaker() as session, session.begin():
            await set_platform_context(session)
            now = utc_now()
            held = await WebhookRepository(session).still_leased({attempt.id: attempt.lease for attempt in attempts})
            for delivery in held:
                delivery.leased_until = None
                error = outcomes[delivery.id]
                if error is None:
                    CALLBACK_ATTEMPTS.labels("delivered").inc()
                    delivery.status, delivery.delivered_at = DeliveryStatus.delivered.value, now
                    continue
                CALLBACK_ATTEMPTS.labels("failed").inc()
                delivery.last_error = error
                if delivery.attempts >= self.settings.max_attempts:
                    delivery.status = DeliveryStatus.dead.value
                    log.warning("webhook dead-lettered", extra={"delivery_id": str(delivery.id)})
                else:
                    delivery.status = DeliveryStatus.pending.value
                    delivery.next_attempt_at = now + self.backoff(delivery.attempts)
