"""Every query on users, role grants and sessions (all tenant-scoped)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.db.scoping import under_roots
from backend.db.tenancy import current_tenant_id
from backend.models import BreakGlassGrant, RoleGrant, User, UserSession


class IdentityRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @property
    def tenant_id(self) -> uuid.UUID:
        return current_tenant_id(self.session)

    async def user_by_username(self, username: str) -> User | None:
        statement = select(User).where(User.tenant_id == self.tenant_id, User.username == username)
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def user_by_id(self, user_id: uuid.UUID) -> User | None:
        statement = select(User).where(User.tenant_id == self.tenant_id, User.id == user_id)
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def users_in_subtrees(self, roots: list[str]) -> list[User]:
        """Users whose workplace lies under one of the roots ('' = the whole tenant), by username."""
        statement = (
            select(User)
            .where(User.tenant_id == self.tenant_id, under_roots(User.org_unit_code, roots))
            .order_by(User.username)
        )
        return list((await self.session.execute(statement)).scalars().all())

    async def active_grants(self, subject: str) -> list[RoleGrant]:
        statement = (
            select(RoleGrant)
            .where(RoleGrant.tenant_id == self.tenant_id, RoleGrant.subject == subject, RoleGrant.revoked_at.is_(None))
            .order_by(RoleGrant.granted_at)
        )
        return list((await self.session.execute(statement)).scalars().all())

    async def grant_by_id(self, grant_id: uuid.UUID) -> RoleGrant | None:
        statement = select(RoleGrant).where(RoleGrant.tenant_id == self.tenant_id, RoleGrant.id == grant_id)
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def session_by_token_hash(self, token_hash: str) -> UserSession | None:
        statement = select(UserSession).where(
            UserSession.tenant_id == self.tenant_id, UserSession.token_hash == token_hash
        )
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def open_sessions(self, user_id: uuid.UUID) -> list[UserSession]:
        statement = select(UserSession).where(
            UserSession.tenant_id == self.tenant_id, UserSession.user_id == user_id, UserSession.ended_at.is_(None)
        )
        return list((await self.session.execute(statement)).scalars().all())

    async def active_break_glass(self, user_id: uuid.UUID, now: datetime) -> list[BreakGlassGrant]:
        statement = select(BreakGlassGrant).where(
            BreakGlassGrant.tenant_id == self.tenant_id,
            BreakGlassGrant.user_id == user_id,
            BreakGlassGrant.revoked_at.is_(None),
            BreakGlassGrant.expires_at > now,
        )
        return list((await self.session.execute(statement)).scalars().all())

    def add(self, row: object) -> None:
        self.session.add(row)
