"""Every query of the notifications domain: a person's notifications, and who holds a role over a unit (the
recipient rules' question), both in the transaction's county."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, delete, func, select, update
from sqlalchemy.dialects.postgresql import insert

from backend.db.repository import TenantScopedRepository
from backend.db.scoping import subtree
from backend.models import Case, Notification, RoleGrant, User
from backend.notifications.errors import NotificationNotFound

USER_SUBJECT = "user:"


class NotificationRepository(TenantScopedRepository[Notification]):
    model = Notification
    unit_column = None  # addressed to a person, not read by subtree
    entity_type = "notification"
    not_found = NotificationNotFound

    async def add_once(self, rows: Sequence[dict[str, Any]]) -> list[uuid.UUID]:
        """Insert the notifications not written before (unique per person and event); the new ones' ids."""
        if not rows:
            return []
        statement = (
            insert(Notification)
            .values([{"tenant_id": self.tenant_id, **row} for row in rows])
            .on_conflict_do_nothing(constraint="uq_notifications_tenant_id_user_id_dedup_key")
            .returning(Notification.id)
        )
        return list((await self.session.execute(statement)).scalars().all())

    async def of_user(
        self, user_id: uuid.UUID, *, unread_only: bool, offset: int, limit: int
    ) -> tuple[list[Notification], int]:
        """The person's notifications, newest first; only the unread ones when asked."""
        statement = self.base().where(Notification.user_id == user_id)
        if unread_only:
            statement = statement.where(Notification.read_at.is_(None))
        ordered = statement.order_by(Notification.created_at.desc(), Notification.id)
        return await self.page(ordered, offset=offset, limit=limit)

    async def unread_count(self, user_id: uuid.UUID) -> int:
        """How many of the person's notifications are unread."""
        statement = select(func.count(Notification.id)).where(
            self.in_county(), Notification.user_id == user_id, Notification.read_at.is_(None)
        )
        return int((await self.session.execute(statement)).scalar_one())

    async def of_user_by_id(self, user_id: uuid.UUID, notification_id: uuid.UUID) -> Notification | None:
        """One of the person's notifications, or None (someone else's answers as missing)."""
        return await self.one_or_none(
            self.base().where(Notification.id == notification_id, Notification.user_id == user_id)
        )

    async def mark_all_read(self, user_id: uuid.UUID, now: datetime) -> int:
        """Mark every unread notification of the person read; how many were."""
        statement = (
            update(Notification)
            .where(self.in_county(), Notification.user_id == user_id, Notification.read_at.is_(None))
            .values(read_at=now)
            .returning(Notification.id)
        )
        return len((await self.session.execute(statement)).scalars().all())

    async def mark_event_read(self, dedup_key: str, now: datetime) -> int:
        """Mark every unread notification of one event read (its item was dealt with); how many were."""
        statement = (
            update(Notification)
            .where(self.in_county(), Notification.dedup_key == dedup_key, Notification.read_at.is_(None))
            .values(read_at=now)
            .returning(Notification.id)
        )
        return len((await self.session.execute(statement)).scalars().all())

    async def delete_created_before(self, cutoff: datetime) -> int:
        """Delete the county's notifications written before `cutoff` (the retention sweep); how many."""
        statement = delete(Notification).where(self.in_county(), Notification.created_at < cutoff)
        return int((await self.session.execute(statement)).rowcount or 0)  # type: ignore[attr-defined]

    async def for_reference(self, reference: str) -> list[Notification]:
        """The county's notifications about one item (a case number or correlation id), oldest first."""
        return await self.all(self.base().where(Notification.reference == reference).order_by(Notification.created_at))

    async def _holders(self, roles: Sequence[str], granted_on: ColumnElement[bool]) -> list[uuid.UUID]:
        """The active users of the county holding one of `roles` by a live grant whose unit meets `granted_on`."""
        subject = func.concat(USER_SUBJECT, func.cast(User.id, RoleGrant.subject.type))
        statement = (
            select(User.id)
            .join(RoleGrant, RoleGrant.subject == subject)
            .where(
                self.in_county(User),
                self.in_county(RoleGrant),
                User.active.is_(True),
                RoleGrant.revoked_at.is_(None),
                RoleGrant.role.in_(list(roles)),
                granted_on,
            )
            .distinct()
            .order_by(User.id)
        )
        return await self.all(statement)

    async def holders(self, roles: Sequence[str], unit_codes: Sequence[str]) -> list[uuid.UUID]:
        """The active users of the county holding one of `roles` granted exactly on one of `unit_codes` (the
        rules pass a unit and its ancestors), in a stable order."""
        return await self._holders(roles, RoleGrant.org_unit_code.in_(list(unit_codes)))

    async def holders_under(self, roles: Sequence[str], root: str) -> list[uuid.UUID]:
        """The active users of the county holding one of `roles` granted on `root` or a unit under it."""
        return await self._holders(roles, subtree(RoleGrant.org_unit_code, root))

    async def active_user(self, user_id: uuid.UUID) -> bool:
        """Whether the user is an active user of the county."""
        statement = select(User.id).where(self.in_county(User), User.id == user_id, User.active.is_(True))
        return await self.first(statement) is not None

    async def case_assignee(self, case_id: uuid.UUID) -> uuid.UUID | None:
        """The assignee of one of the county's cases (None: unassigned or no such case)."""
        statement = select(Case.assignee_id).where(self.in_county(Case), Case.id == case_id)
        return await self.first(statement)
