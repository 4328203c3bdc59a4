"""Every query on department notifications. The platform-side rows are filtered here by the submitting
client (or the routed county) as well as by the row-level policy: two locks, not one. Notifications and
callbacks belong to no county (the plain `Repository` base); the county's triage copies are tenant rows."""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from datetime import datetime
from functools import cache
from typing import Any

import asyncpg
from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.dialects import postgresql

from backend.db.repository import Repository, TenantScopedRepository
from backend.db.tenancy import current_tenant_id
from backend.models import IntakeNotification, IntakeTriage, NotificationStatus, WebhookDelivery, WebhookSubscription

_TABLE = IntakeNotification.__table__


def _array_type(column_name: str) -> str:
    """The PostgreSQL type of a notification column, as the ORM table declares it, without a length (a cast to
    varchar(n) would cut a value silently where the insert must refuse it)."""
    declared = _TABLE.columns[column_name].type.compile(dialect=postgresql.dialect())
    return re.sub(r"\(.*\)", "", declared).lower()


@cache
def _insert_new(columns: tuple[str, ...]) -> str:
    """One statement for one row or a thousand: each column travels as one array parameter, typed from the
    ORM table; a (client, transaction id) already stored is skipped."""
    arrays = ", ".join(f"${n}::{_array_type(name)}[]" for n, name in enumerate(columns, start=1))
    return (
        f"INSERT INTO {IntakeNotification.__tablename__} ({', '.join(columns)}) SELECT * FROM unnest({arrays}) "
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
        """Insert the rows (column name -> value, the same columns in each) whose (client, transaction id) is
        new; returns transaction id -> id of those inserted. A concurrent insert of the same key waits for the
        other transaction and then skips."""
        if not rows:
            return {}
        names = tuple(rows[0])
        columns = [[row[name] for row in rows] for name in names]
        records = await self.connection.fetch(_insert_new(names), *columns)
        return {record["transaction_id"]: record["id"] for record in records}

    async def by_transaction_ids(
        self, client_id: str, transaction_ids: Sequence[str]
    ) -> dict[str, tuple[uuid.UUID, str, str]]:
        """transaction id -> (id, status, payload digest) of this client's existing notifications."""
        if not transaction_ids:
            return {}
        records = await self.connection.fetch(_BY_TRANSACTION_IDS, client_id, list(transaction_ids))
        return {record[0]: (record[1], record[2], record[3]) for record in records}


class NotificationRepository(Repository):
    async def get_for_client(self, client_id: str, notification_id: uuid.UUID) -> IntakeNotification | None:
        """The client's own notification with this id, or None."""
        return await self.one_or_none(
            select(IntakeNotification).where(
                IntakeNotification.client_id == client_id, IntakeNotification.id == notification_id
            )
        )

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
        return await self.one_or_none(statement)

    async def claim_pending(self, now: datetime, limit: int) -> list[IntakeNotification]:
        """Due notifications waiting for the router, locked; other routers skip them (platform context)."""
        statement = (
            select(IntakeNotification)
            .where(IntakeNotification.status == NotificationStatus.received, IntakeNotification.available_at <= now)
            .order_by(IntakeNotification.available_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return await self.all(statement)

    async def held(self, *, offset: int, limit: int) -> list[IntakeNotification]:
        """The holding queue: notifications for counties not on this instance (platform context)."""
        statement = (
            select(IntakeNotification)
            .where(IntakeNotification.status == NotificationStatus.held)
            .order_by(IntakeNotification.received_at)
            .offset(offset)
            .limit(limit)
        )
        return await self.all(statement)

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


class TriageRepository(TenantScopedRepository[IntakeTriage]):
    """The county's copies of the notifications routed to it."""

    model = IntakeTriage
    unit_column = None
    entity_type = "intake_triage"

    async def by_case(self, case_id: uuid.UUID) -> IntakeTriage | None:
        """The triage copy behind a case, or None (the case is not a triage case)."""
        return await self.one_or_none(self.base().where(IntakeTriage.case_id == case_id))

    async def by_notification(self, notification_id: uuid.UUID) -> IntakeTriage | None:
        """The county's copy of a notification, or None."""
        return await self.one_or_none(self.base().where(IntakeTriage.notification_id == notification_id))


class WebhookRepository(Repository):
    async def subscription(self, client_id: str) -> WebhookSubscription | None:
        """The client's callback URL and secret, or None."""
        return await self.one_or_none(select(WebhookSubscription).where(WebhookSubscription.client_id == client_id))

    async def subscriptions(self, client_ids: Sequence[str]) -> dict[str, WebhookSubscription]:
        """The callback URLs and secrets of these clients, by client id (those without one are missing)."""
        if not client_ids:
            return {}
        rows = await self.all(select(WebhookSubscription).where(WebhookSubscription.client_id.in_(set(client_ids))))
        return {row.client_id: row for row in rows}

    async def claim_due(self, now: datetime, limit: int) -> list[WebhookDelivery]:
        """Callbacks due at `now`, oldest first, locked until the claim commits (other dispatchers skip them):
        pending ones whose retry time came, and in-flight ones whose lease ran out (their sender died)."""
        statement = (
            select(WebhookDelivery)
            .where(
                or_(
                    and_(WebhookDelivery.status == "pending", WebhookDelivery.next_attempt_at <= now),
                    and_(WebhookDelivery.status == "in_flight", WebhookDelivery.leased_until <= now),
                )
            )
            .order_by(WebhookDelivery.next_attempt_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return await self.all(statement)

    async def still_leased(self, leases: dict[uuid.UUID, datetime]) -> list[WebhookDelivery]:
        """Of the callbacks this dispatcher claimed (id: the lease it set), those it still holds, locked: a lease
        that ran out and was claimed again belongs to the new sender."""
        if not leases:
            return []
        rows = await self.all(
            select(WebhookDelivery)
            .where(WebhookDelivery.id.in_(list(leases)), WebhookDelivery.status == "in_flight")
            .with_for_update()
        )
        return [row for row in rows if row.leased_until == leases[row.id]]

    async def get(self, delivery_id: uuid.UUID) -> WebhookDelivery | None:
        """The callback with this id (event id), or None."""
        return await self.session.get(WebhookDelivery, delivery_id)

    async def by_status(self, status: str, *, limit: int = 200) -> list[WebhookDelivery]:
        """Callbacks in a status (e.g. the dead-letter list), oldest first."""
        return await self.all(
            select(WebhookDelivery)
            .where(WebhookDelivery.status == status)
            .order_by(WebhookDelivery.created_at)
            .limit(limit)
        )
