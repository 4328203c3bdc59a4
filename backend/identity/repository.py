"""Every query on users, role grants and sessions of the transaction's county (the tenant-scoped base:
`backend/db/repository.py`)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, String, case, cast, func, literal, or_, select, update
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncSession

from backend.breakglass.repository import BreakGlassRepository
from backend.db.repository import Repository, TenantScopedRepository
from backend.models import BreakGlassGrant, RoleGrant, RoleGrantRequest, Tenant, User, UserSession


class UserRepository(TenantScopedRepository[User]):
    model = User
    entity_type = "user"


class RoleGrantRepository(TenantScopedRepository[RoleGrant]):
    model = RoleGrant
    entity_type = "role_grant"


class RoleGrantRequestRepository(TenantScopedRepository[RoleGrantRequest]):
    model = RoleGrantRequest
    entity_type = "role_grant_request"


class UserSessionRepository(TenantScopedRepository[UserSession]):
    model = UserSession
    unit_column = None


@dataclass(frozen=True, slots=True)
class SignedIn:
    """A browser session with everything its requests' principal is built from: the session, its user, the
    county's code, the user's grants not revoked as (role, unit) oldest first, and her break-glass grants in
    force as (id, unit, reason, expires_at ISO text)."""

    user_session: UserSession
    user: User
    tenant_code: str
    grants: list[list[str]]
    break_glass: list[list[str]]


@dataclass(frozen=True, slots=True)
class FailureCount:
    """A failed sign-in as counted: the failures now, and whether this one locked the account."""

    failures: int
    locked_now: bool


class IdentityRepository(Repository):
    """Users, their role grants, their browser sessions and their break-glass grants, in the current county."""

    def __init__(self, session: AsyncSession) -> None:
        super().__init__(session)
        self.users = UserRepository(session)
        self.grants = RoleGrantRepository(session)
        self.sessions = UserSessionRepository(session)
        self.requests = RoleGrantRequestRepository(session)

    @property
    def tenant_id(self) -> uuid.UUID:
        """The county this transaction is scoped to; raises when it was never scoped."""
        return self.users.tenant_id

    async def user_by_username(self, username: str) -> User | None:
        """The county's user with this username (unique within the county), or None."""
        return await self.one_or_none(self.users.base().where(User.username == username))

    async def count_failed_sign_in(
        self, user_id: uuid.UUID, *, now: datetime, max_failures: int, lock_until: datetime
    ) -> FailureCount | None:
        """Count one failed sign-in in a single UPDATE (no read-modify-write, no version check: parallel failures
        all count and none conflicts); the failure that reaches `max_failures` locks the account until
        `lock_until` and starts the count again. None when the account is locked already (nothing counted)."""
        reaches = User.failed_login_count + 1 >= max_failures
        statement = (
            update(User)
            .where(
                User.tenant_id == self.tenant_id,
                User.id == user_id,
                or_(User.locked_until.is_(None), User.locked_until <= now),
            )
            .values(
                failed_login_count=case((reaches, 0), else_=User.failed_login_count + 1),
                locked_until=case((reaches, lock_until), else_=None),
            )
            .returning(User.failed_login_count, User.locked_until)
            .execution_options(synchronize_session=False)
        )
        row = (await self.session.execute(statement)).first()
        if row is None:
            return None
        return FailureCount(failures=row[0], locked_now=row[1] is not None)

    async def clear_failed_sign_ins(self, user_id: uuid.UUID) -> None:
        """Forget the failures after a successful sign-in (a no-op write when there were none), without the
        version check: it is not an edit of the user and must not conflict with one."""
        await self.session.execute(
            update(User)
            .where(
                User.tenant_id == self.tenant_id,
                User.id == user_id,
                or_(User.failed_login_count != 0, User.locked_until.is_not(None)),
            )
            .values(failed_login_count=0, locked_until=None)
            .execution_options(synchronize_session=False)
        )

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

    async def active_users_holding(self, roles: frozenset[str], *, excluding: uuid.UUID) -> list[User]:
        """The county's active users, other than `excluding`, who hold one of `roles` (not revoked)."""
        holders = self.grants.base().where(RoleGrant.role.in_(roles), RoleGrant.revoked_at.is_(None))
        subjects = {grant.subject for grant in await self.all(holders)} - {f"user:{excluding}"}
        ids = [uuid.UUID(subject.removeprefix("user:")) for subject in subjects if subject.startswith("user:")]
        if not ids:
            return []
        return await self.all(self.users.base().where(User.id.in_(ids), User.active.is_(True)))

    async def pending_grant_request(self, subject: str, role: str, org_unit_code: str) -> RoleGrantRequest | None:
        """The request waiting for this very grant, or None."""
        statement = self.requests.base().where(
            RoleGrantRequest.subject == subject,
            RoleGrantRequest.role == role,
            RoleGrantRequest.org_unit_code == org_unit_code,
            RoleGrantRequest.decided_at.is_(None),
        )
        return await self.one_or_none(statement)

    async def pending_grant_requests(self, roots: list[str]) -> list[RoleGrantRequest]:
        """Requests waiting for a decision, for units under one of the roots ('' = the county), oldest first."""
        statement = self.requests.base().where(self.requests.in_subtrees(roots), RoleGrantRequest.decided_at.is_(None))
        return await self.all(statement.order_by(RoleGrantRequest.requested_at))

    async def grant_request(self, request_id: uuid.UUID) -> RoleGrantRequest | None:
        """The county's grant request with this id (decided or not), or None."""
        return await self.requests.get(request_id)

    async def grant_by_id(self, grant_id: uuid.UUID) -> RoleGrant | None:
        """The county's grant with this id (revoked or not), or None."""
        return await self.grants.get(grant_id)

    async def session_by_token_hash(self, token_hash: str) -> UserSession | None:
        """The browser session whose secret has this digest, or None."""
        return await self.one_or_none(self.sessions.base().where(UserSession.token_hash == token_hash))

    async def signed_in(self, token_hash: str, now: datetime) -> SignedIn | None:
        """The session whose secret has this digest with its user, county, grants and break-glass grants in
        force at `now`, in one round trip (every cookie-authenticated request runs it); None without one."""
        tenant_id = self.tenant_id
        subject = literal("user:") + cast(User.id, String)
        grants = (
            select(
                func.json_agg(
                    aggregate_order_by(
                        func.json_build_array(RoleGrant.role, RoleGrant.org_unit_code), RoleGrant.granted_at
                    )
                )
            )
            .where(RoleGrant.tenant_id == tenant_id, RoleGrant.subject == subject, RoleGrant.revoked_at.is_(None))
            .scalar_subquery()
        )
        break_glass = (
            select(
                func.json_agg(
                    func.json_build_array(
                        cast(BreakGlassGrant.id, String),
                        BreakGlassGrant.org_unit_code,
                        BreakGlassGrant.reason,
                        BreakGlassGrant.expires_at,
                    )
                )
            )
            .where(
                BreakGlassGrant.tenant_id == tenant_id,
                BreakGlassGrant.user_id == User.id,
                BreakGlassGrant.revoked_at.is_(None),
                BreakGlassGrant.expires_at > now,
            )
            .scalar_subquery()
        )
        statement = (
            select(UserSession, User, Tenant.code, grants, break_glass)
            .join(User, User.id == UserSession.user_id)
            .join(Tenant, Tenant.id == UserSession.tenant_id)
            .where(
                UserSession.tenant_id == tenant_id, User.tenant_id == tenant_id, UserSession.token_hash == token_hash
            )
        )
        row = (await self.session.execute(statement)).one_or_none()
        if row is None:
            return None
        user_session, user, tenant_code, grant_rows, break_glass_rows = row
        return SignedIn(user_session, user, tenant_code, grant_rows or [], break_glass_rows or [])

    async def open_sessions(self, user_id: uuid.UUID) -> list[UserSession]:
        """The user's sessions not ended yet."""
        return await self.all(
            self.sessions.base().where(UserSession.user_id == user_id, UserSession.ended_at.is_(None))
        )

    async def active_break_glass(self, user_id: uuid.UUID, now: datetime) -> list[BreakGlassGrant]:
        """The user's break-glass grants in force at `now`."""
        return await BreakGlassRepository(self.session).in_force_for(user_id, now)
