"""Every query of notification delivery: preferences, the county's channel settings, delivery rows (all in the
transaction's county)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select

from backend.db.repository import TenantScopedRepository
from backend.models import DeliverySettings, Notification, NotificationDelivery, NotificationPreference
from backend.notifications.errors import NotificationNotFound


class DeliveryRepository(TenantScopedRepository[NotificationDelivery]):
    model = NotificationDelivery
    unit_column = None  # addressed to a person
    entity_type = "notification_delivery"
    not_found = NotificationNotFound

    async def preferences_of(self, user_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, NotificationPreference]:
        """The saved preferences of these users (a user without a row has in-app only)."""
        statement = self.county_rows(NotificationPreference).where(NotificationPreference.user_id.in_(list(user_ids)))
        return {row.user_id: row for row in await self.all(statement)}

    async def preference(self, user_id: uuid.UUID, *, for_update: bool = False) -> NotificationPreference | None:
        statement = self.county_rows(NotificationPreference).where(NotificationPreference.user_id == user_id)
        if for_update:
            statement = statement.with_for_update()
        return await self.one_or_none(statement)

    async def settings(self, *, for_update: bool = False) -> DeliverySettings | None:
        """The county's channel settings (None until saved)."""
        statement = self.county_rows(DeliverySettings)
        if for_update:
            statement = statement.with_for_update()
        return await self.one_or_none(statement)

    async def for_send(self, delivery_id: uuid.UUID) -> tuple[NotificationDelivery, Notification] | None:
        """A delivery with its notification, the delivery locked for this transaction."""
        statement = (
            select(NotificationDelivery, Notification)
            .join(Notification, Notification.id == NotificationDelivery.notification_id)
            .where(self.in_county(), self.in_county(Notification), NotificationDelivery.id == delivery_id)
            .with_for_update(of=NotificationDelivery)
        )
        row = (await self.session.execute(statement)).one_or_none()
        return (row[0], row[1]) if row is not None else None

    async def digest_batch(self, delivery: NotificationDelivery) -> list[tuple[NotificationDelivery, Notification]]:
        """The unsent deliveries of one daily digest (same person, channel and moment) with their notifications,
        oldest first, locked for this transaction."""
        statement = (
            select(NotificationDelivery, Notification)
            .join(Notification, Notification.id == NotificationDelivery.notification_id)
            .where(
                self.in_county(),
                self.in_county(Notification),
                NotificationDelivery.digest.is_(True),
                NotificationDelivery.user_id == delivery.user_id,
                NotificationDelivery.channel == delivery.channel,
                NotificationDelivery.due_at == delivery.due_at,
                NotificationDelivery.status != "sent",
            )
            .order_by(NotificationDelivery.created_at, NotificationDelivery.id)
            .with_for_update(of=NotificationDelivery)
        )
        return [(row[0], row[1]) for row in (await self.session.execute(statement)).all()]

    async def by_ids(self, ids: Sequence[uuid.UUID]) -> list[NotificationDelivery]:
        """These deliveries of the county, locked for this transaction."""
        statement = self.base().where(NotificationDelivery.id.in_(list(ids))).with_for_update()
        return await self.all(statement)

    async def with_status(
        self, statuses: Sequence[str], *, offset: int, limit: int
    ) -> tuple[list[NotificationDelivery], int]:
        """The county's deliveries in these states, newest first."""
        statement = (
            self.base()
            .where(NotificationDelivery.status.in_(list(statuses)))
            .order_by(NotificationDelivery.created_at.desc(), NotificationDelivery.id)
        )
        return await self.page(statement, offset=offset, limit=limit)

    async def of_notification(self, notification_id: uuid.UUID) -> list[NotificationDelivery]:
        statement = self.base().where(NotificationDelivery.notification_id == notification_id)
        return await self.all(statement.order_by(NotificationDelivery.channel))
