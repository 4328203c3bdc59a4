"""Every query on department notifications. The platform-side rows are filtered here by the submitting
client (or the routed county) as well as by the row-level policy: two locks, not one."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import asyncpg
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from backend.db.tenancy import current_tenant_id
from backend.models import IntakeNotification, IntakeTriage, NotificationStatus, WebhookDelivery, WebhookSubscription

_COLUMNS = (
    ("id", "uuid"),
    ("client_id", "text"),
    ("department", "text"),
    ("notification_type", "text"),
    ("schema_version", "int"),
    ("transaction_id", "text"),
    ("idempotency_key", "text"),
    ("payload_encrypted", "bytea"),
    ("payload_digest", "text"),
    ("division_code", "text"),
    ("county_code", "text"),
    ("status", "text"),
    ("received_at", "timestamptz"),
    ("available_at", "timestamptz"),
    ("route_attempts", "int"),
)
# One statement for one row or a thousand: each column travels as one array parameter.
_INSERT_NEW = (
    f"INSERT INTO intake_notifications ({', '.join(name for name, _ in _COLUMNS)}) "
    f"SELECT * FROM unnest({', '.join(f'${n}::{kind}[]' for n, (_, kind) in enumerate(_COLUMNS, start=1))}) "
    "ON CONFLICT (client_id, transaction_id) DO NOTHING RETURNING transaction_id, id"
)
_BY_TRANSACTION_IDS = (
    "SELECT transaction_id, id, status, payload_digest FROM intake_notifications "
    "WHERE client_id = $1 AND transaction_id = ANY($2::text[])"
)


class NotificationIntake:
    """Storing submitted notifications, on the submit path's plain asyncpg transaction
    (backend/intake/transaction.py), which already carries the client's row-level context."""

    def __init__(self, connection: asyncpg.Connection) -> None:
        self.connection = connection

    async def insert_new(self, rows: Sequence[dict[str, Any]]) -> dict[str, uuid.UUID]:
        """Insert the rows whose (client, transaction id) is new; returns transaction id -> id of those
        inserted. A concurrent insert of the same key waits for the other transaction and then skips."""
        if not rows:
            return {}
        columns = [[row[name] for row in rows] for name, _ in _COLUMNS]
        records = await self.connection.fetch(_INSERT_NEW, *columns)
        return {record["transaction_id"]: record["id"] for record in records}

    async def by_transaction_ids(
        self, client_id: str, transaction_ids: Sequence[str]
    ) -> dict[str, tuple[uuid.UUID, str, str]]:
        """transaction id -> (id, status, payload digest) of this client's existing notifications."""
        if not transaction_ids:
            return {}
        records = await self.connection.fetch(_BY_TRANSACTION_IDS, client_id, list(transaction_ids))
        return {record[0]: (record[1], record[2], record[3]) for record in records}


class NotificationRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get_for_client(self, client_id: str, notification_id: uuid.UUID) -> IntakeNotification | None:
        statement = select(IntakeNotification).where(
            IntakeNotification.client_id == client_id, IntakeNotification.id == notification_id
        )
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def get_routed_here(self, notification_id: uuid.UUID) -> IntakeNotification | None:
        """A notification routed to the transaction's county, locked for the officer's decision."""
        statement = (
            select(IntakeNotification)
            .where(
                IntakeNotification.routed_tenant_id == current_tenant_id(self.session),
                IntakeNotification.id == notification_id,
            )
            .with_for_update()
        )
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def claim_pending(self, now: datetime, limit: int) -> list[IntakeNotification]:
        """Due notifications waiting for the router, locked; other routers skip them (platform context)."""
        statement = (
            select(IntakeNotification)
            .where(IntakeNotification.status == NotificationStatus.received, IntakeNotification.available_at <= now)
            .order_by(IntakeNotification.available_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return list((await self.session.execute(statement)).scalars().all())

    async def held(self, *, offset: int, limit: int) -> list[IntakeNotification]:
        """The holding queue: notifications for counties not on this instance (platform context)."""
        statement = (
            select(IntakeNotification)
            .where(IntakeNotification.status == NotificationStatus.held)
            .order_by(IntakeNotification.received_at)
            .offset(offset)
            .limit(limit)
        )
        return list((await self.session.execute(statement)).scalars().all())

    async def release_held(self, now: datetime) -> int:
        """Hand every held notification back to the router (platform context); returns how many."""
        statement = (
            update(IntakeNotification)
            .where(IntakeNotification.status == NotificationStatus.held)
            .values(status=NotificationStatus.received.value, available_at=now)
        )
        result = await self.session.execute(statement)
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    async def monthly_counts(
        self, start: datetime, end: datetime, client_id: str | None
    ) -> list[tuple[str, str, str, int]]:
        """(department, client id, status, count) of notifications received in [start, end)."""
        statement = (
            select(
                IntakeNotification.department,
                IntakeNotification.client_id,
                IntakeNotification.status,
                func.count(),
            )
            .where(IntakeNotification.received_at >= start, IntakeNotification.received_at < end)
            .group_by(IntakeNotification.department, IntakeNotification.client_id, IntakeNotification.status)
        )
        if client_id is not None:
            statement = statement.where(IntakeNotification.client_id == client_id)
        return [(row[0], row[1], row[2], int(row[3])) for row in (await self.session.execute(statement)).all()]


class TriageRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def by_case(self, case_id: uuid.UUID) -> IntakeTriage | None:
        statement = select(IntakeTriage).where(
            IntakeTriage.tenant_id == current_tenant_id(self.session), IntakeTriage.case_id == case_id
        )
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def by_notification(self, notification_id: uuid.UUID) -> IntakeTriage | None:
        statement = select(IntakeTriage).where(
            IntakeTriage.tenant_id == current_tenant_id(self.session), IntakeTriage.notification_id == notification_id
        )
        return (await self.session.execute(statement)).scalar_one_or_none()


class WebhookRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def subscription(self, client_id: str) -> WebhookSubscription | None:
        statement = select(WebhookSubscription).where(WebhookSubscription.client_id == client_id)
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def claim_due(self, now: datetime, limit: int) -> list[WebhookDelivery]:
        statement = (
            select(WebhookDelivery)
            .where(WebhookDelivery.status == "pending", WebhookDelivery.next_attempt_at <= now)
            .order_by(WebhookDelivery.next_attempt_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return list((await self.session.execute(statement)).scalars().all())

    async def get(self, delivery_id: uuid.UUID) -> WebhookDelivery | None:
        return await self.session.get(WebhookDelivery, delivery_id)

    async def by_status(self, status: str, *, limit: int = 200) -> list[WebhookDelivery]:
        statement = (
            select(WebhookDelivery)
            .where(WebhookDelivery.status == status)
            .order_by(WebhookDelivery.created_at)
            .limit(limit)
        )
        return list((await self.session.execute(statement)).scalars().all())
