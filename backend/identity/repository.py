"""Every query on users, role grants and sessions of the transaction's county (the tenant-scoped base:
`backend/db/repository.py`)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import ColumnElement, String, cast, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.breakglass.repository import BreakGlassRepository
from backend.db.repository import Repository, TenantScopedRepository
from backend.models import BreakGlassGrant, RoleGrant, User, UserSession


class UserRepository(TenantScopedRepository[User]):
    model = User
    entity_type = "user"


class RoleGrantRepository(TenantScopedRepository[RoleGrant]):
    model = RoleGrant
    entity_type = "role_grant"


class UserSessionRepository(TenantScopedRepository[UserSession]):
    model = UserSession
    unit_column = None


class IdentityRepository(Repository):
    """Users, their role grants, their browser sessions and their break-glass grants, in the current county."""

    def __init__(self, session: AsyncSession) -> None:
        super().__init__(session)
        self.users = UserRepository(session)
        self.grants = RoleGrantRepository(session)
        self.sessions = UserSessionRepository(session)

    @property
    def tenant_id(self) -> uuid.UUID:
        """The county this transaction is scoped to; raises when it was never scoped."""
        return self.users.tenant_id

    async def user_by_username(self, username: str) -> User | None:
        """The county's user with this username (unique within the county), or None."""
        return await self.one_or_none(self.users.base().where(User.username == username))

    async def user_by_id(self, user_id: uuid.UUID) -> User | None:
        """The county's user with this id, or None."""
        return await self.users.get(user_id)

    async def users_in_subtrees(self, roots: list[str]) -> list[User]:
        """Users whose workplace lies under one of the roots ('' = the whole tenant), by username."""
        return await self.all(self.users.base().where(self.users.in_subtrees(roots)).order_by(User.username))

    async def users_holding(
        self, roles: Iterable[str], units: list[str], subtrees: list[str] | None = None
    ) -> list[User]:
        """The active users holding one of `roles` (an active grant) on one of `units`, or on a unit under one of
        `subtrees`; by username. Whom work of a unit can be given to."""
        where: ColumnElement[bool] = RoleGrant.org_unit_code.in_(units)
        if subtrees:
            where = or_(where, self.grants.in_subtrees(subtrees))
        holders = select(RoleGrant.subject).where(
            self.grants.in_county(), RoleGrant.revoked_at.is_(None), RoleGrant.role.in_(list(roles)), where
        )
        subject = "user:" + cast(User.id, String)
        statement = self.users.base().where(User.active.is_(True), subject.in_(holders)).order_by(User.username)
        return await self.all(statement)

    async def active_grants(self, subject: str) -> list[RoleGrant]:
        """The subject's grants not revoked, oldest first."""
        statement = self.grants.base().where(RoleGrant.subject == subject, RoleGrant.revoked_at.is_(None))
        return await self.all(statement.order_by(RoleGrant.granted_at))

    async def grant_by_id(self, grant_id: uuid.UUID) -> RoleGrant | None:
        """The county's grant with this id (revoked or not), or None."""
        return await self.grants.get(grant_id)

    async def session_by_token_hash(self, token_hash: str) -> UserSession | None:
        """The browser session whose secret has this digest, or None."""
        return await self.one_or_none(self.sessions.base().where(UserSession.token_hash == token_hash))

    async def open_sessions(self, user_id: uuid.UUID) -> list[UserSession]:
        """The user's sessions not ended yet."""
        return await self.all(
            self.sessions.base().where(UserSession.user_id == user_id, UserSession.ended_at.is_(None))
        )

    async def active_break_glass(self, user_id: uuid.UUID, now: datetime) -> list[BreakGlassGrant]:
        """The user's break-glass grants in force at `now`."""
        return await BreakGlassRepository(self.session).in_force_for(user_id, now)
