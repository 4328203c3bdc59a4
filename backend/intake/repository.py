"""Every query on department notifications. The platform-side rows are filtered here by the submitting
client (or the routed county) as well as by the row-level policy: two locks, not one."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from backend.db.tenancy import current_tenant_id
from backend.models import IntakeNotification, IntakeTriage, NotificationStatus, WebhookDelivery, WebhookSubscription


class NotificationRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def insert_new(self, rows: Sequence[dict[str, Any]]) -> dict[str, uuid.UUID]:
        """Insert the rows whose (client, transaction id) is new; returns transaction id -> id of those
        inserted. A concurrent insert of the same key waits for the other transaction and then skips."""
        if not rows:
            return {}
        table = cast(Table, IntakeNotification.__table__)
        # executemany form: one cached statement, sent by SQLAlchemy as multi-row VALUES pages
        # ("insertmanyvalues"); .values(rows) would compile a new 15,000-parameter statement every time.
        statement = (
            insert(table)
            .on_conflict_do_nothing(index_elements=["client_id", "transaction_id"])
            .returning(table.c.transaction_id, table.c.id)
        )
        result = await self.session.execute(statement, list(rows))
        return {transaction_id: notification_id for transaction_id, notification_id in result.all()}

    async def by_transaction_ids(
        self, client_id: str, transaction_ids: Sequence[str]
    ) -> dict[str, tuple[uuid.UUID, str, str]]:
        """transaction id -> (id, status, payload digest) of this client's existing notifications."""
        if not transaction_ids:
            return {}
        statement = select(
            IntakeNotification.transaction_id,
            IntakeNotification.id,
            IntakeNotification.status,
            IntakeNotification.payload_digest,
        ).where(IntakeNotification.client_id == client_id, IntakeNotification.transaction_id.in_(transaction_ids))
        return {row[0]: (row[1], row[2], row[3]) for row in (await self.session.execute(statement)).all()}

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
