"""Users, role grants, sign-in, browser sessions and passwords.

Sign-in failures are counted and lock the account after `login_max_failures`; the failure, the lock and the
success are audited. The response never tells a wrong username from a wrong password or a lock, and a wrong
username costs the same argon2 work as a wrong password.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from backend.audit import service as audit
from backend.authz.principal import BreakGlassScope, Principal, ScopedRole
from backend.authz.vocabulary import ADMINISTRATION_ROLES, COUNTY_WIDE_ROLES, TOWNSHIP_ROLES, Action, Role
from backend.config import Settings
from backend.core.clock import utc_now
from backend.core.context import Actor, actor_var
from backend.core.errors import StaleVersion
from backend.core.input import refuses_control_characters
from backend.db.tenancy import set_tenant
from backend.identity import duties, security
from backend.identity.duties import user_subject
from backend.identity.errors import (
    GrantNotFound,
    InvalidGrant,
    UsernameTaken,
    UserNotFound,
    WeakPassword,
    WrongCurrentPassword,
)
from backend.identity.repository import IdentityRepository
from backend.identity.schemas import RoleGrantCreate, UserCreate, UserUpdate
from backend.models import RoleGrant, RoleGrantRequest, User, UserSession
from backend.org.repository import OrgUnitRepository
from backend.tenants.errors import TenantNotFound
from backend.tenants.service import get_tenant_by_code

SESSION_TOUCH_INTERVAL = timedelta(minutes=1)


def user_actor(user: User) -> Actor:
    return Actor(kind="user", id=str(user.id), label=f"{user.display_name} ({user.username})")


def check_password_strength(password: str, *, username: str, field: str = "password") -> None:
    if len(password) < security.MIN_PASSWORD_LENGTH:
        raise WeakPassword(
            field, f"至少{security.MIN_PASSWORD_LENGTH}个字符 / at least {security.MIN_PASSWORD_LENGTH} characters"
        )
    if username.lower() in password.lower():
        raise WeakPassword(field, "不能包含用户名 / must not contain the username")
    if len(set(password)) < 4:
        raise WeakPassword(field, "过于简单 / too simple")


# --- users and grants -----------------------------------------------------------------------------------


async def _check_grant(session: AsyncSession, granter: Principal, grant: RoleGrantCreate, field: str) -> None:
    """A grant must name a unit of this county at the level the role works at, inside the granter's reach."""
    unit = await OrgUnitRepository(session).get_by_code(grant.org_unit_code)
    if unit is None or not unit.active:
        raise InvalidGrant(field, "组织机构不存在 / no such org unit in this county")
    level = len(grant.org_unit_code)
    if grant.role in COUNTY_WIDE_ROLES and level != 6:
        raise InvalidGrant(field, "该角色只能授予县级 / this role is granted on the county only")
    if grant.role in TOWNSHIP_ROLES and level != 9:
        raise InvalidGrant(field, "该角色只能授予乡镇（街道） / this role is granted on a township only")
    if grant.role == Role.village_coordinator and level != 12:
        raise InvalidGrant(field, "该角色只能授予村（居） / this role is granted on a village only")
    if grant.role == Role.platform_admin:
        raise InvalidGrant(field, "平台管理员不能由县级授予 / the platform role is not granted by a county")
    if not granter.can(Action.users_manage, grant.org_unit_code):
        raise InvalidGrant(field, "超出您的管理范围 / outside the units you administer")


async def grant_role(
    session: AsyncSession, granter: Principal, user: User, grant: RoleGrantCreate, *, field: str = "role"
) -> RoleGrant | RoleGrantRequest:
    """Grant a role over a subtree, with its audit event, in the caller's transaction; or, when the grant would
    give one user both administration and personal data, record it as a request for a second administrator
    (backend/identity/duties.py). Nobody grants a role to herself."""
    duties.refuse_self_grant(granter, user)
    await _check_grant(session, granter, grant, field)
    held = await IdentityRepository(session).active_grants(user_subject(user.id))
    if any(g.role == grant.role and g.org_unit_code == grant.org_unit_code for g in held):
        raise InvalidGrant(field, "已有相同授权 / the user already holds this grant")
    if duties.combines_administration_and_personal_data(grant.role, {g.role for g in held}):
        return await duties.request_grant(session, granter, user, grant.role, grant.org_unit_code)
    return await duties.add_grant(
        session, user, grant.role.value, grant.org_unit_code, granted_by=granter.subject, approved_by=None
    )


async def revoke_grant(session: AsyncSession, granter: Principal, user: User, grant_id: uuid.UUID) -> None:
    repository = IdentityRepository(session)
    row = await repository.grant_by_id(grant_id)
    if row is None or row.subject != user_subject(user.id) or row.revoked_at is not None:
        raise GrantNotFound()
    if not granter.can(Action.users_manage, row.org_unit_code):
        raise GrantNotFound()
    if row.role in ADMINISTRATION_ROLES:
        await duties.keep_an_administrator(session, granter, user)
    row.revoked_at = utc_now()
    await session.flush()
    await audit.record(
        session,
        action="role_grant.revoke",
        entity_type="user",
        entity_id=user.id,
        org_unit_code=row.org_unit_code,
        changes=audit.diff({"role": row.role, "org_unit_code": row.org_unit_code}, None),
    )


async def create_user(session: AsyncSession, creator: Principal, user_create: UserCreate) -> User:
    """Create a user in the creator's county with her initial grants; all audited, all or nothing."""
    repository = IdentityRepository(session)
    unit = await OrgUnitRepository(session).get_by_code(user_create.org_unit_code)
    if unit is None or not creator.can(Action.users_manage, user_create.org_unit_code):
        raise InvalidGrant("org_unit_code", "组织机构不存在或超出管理范围 / unknown unit or outside your reach")
    if await repository.user_by_username(user_create.username) is not None:
        raise UsernameTaken(user_create.username)
    check_password_strength(user_create.password, username=user_create.username)
    user = User(
        id=uuid.uuid4(),
        tenant_id=repository.tenant_id,
        username=user_create.username,
        display_name=user_create.display_name,
        org_unit_code=user_create.org_unit_code,
        password_hash=security.hash_secret(user_create.password),
        active=True,
        failed_login_count=0,
    )
    repository.add(user)
    await session.flush()
    await audit.record(
        session,
        action="user.create",
        entity_type="user",
        entity_id=user.id,
        org_unit_code=user.org_unit_code,
        changes=audit.diff(
            None, {"username": user.username, "display_name": user.display_name, "org_unit_code": user.org_unit_code}
        ),
    )
    for index, grant in enumerate(user_create.grants):
        await grant_role(session, creator, user, grant, field=f"grants.{index}")
    return user


async def get_user_in_reach(session: AsyncSession, principal: Principal, user_id: uuid.UUID) -> User:
    """The user if the principal administers her unit; 404 otherwise (existence is information)."""
    user = await IdentityRepository(session).user_by_id(user_id)
    if user is None or not principal.can(Action.users_manage, user.org_unit_code):
        raise UserNotFound()
    return user


async def update_user(session: AsyncSession, principal: Principal, user: User, update: UserUpdate) -> User:
    changes = update.model_dump(exclude_unset=True, exclude={"version"})
    if "org_unit_code" in changes:
        unit = await OrgUnitRepository(session).get_by_code(changes["org_unit_code"])
        if unit is None or not principal.can(Action.users_manage, changes["org_unit_code"]):
            raise InvalidGrant("org_unit_code", "组织机构不存在或超出管理范围 / unknown unit or outside your reach")
    if update.version != user.version:
        raise StaleVersion(current=_user_snapshot(user))
    if changes.get("active") is False and user.active:
        await duties.keep_an_administrator(session, principal, user)
    before = {name: getattr(user, name) for name in changes}
    for name, value in changes.items():
        setattr(user, name, value)
    await session.flush()
    await audit.record(
        session,
        action="user.update",
        entity_type="user",
        entity_id=user.id,
        org_unit_code=user.org_unit_code,
        changes=audit.diff(before, changes),
    )
    if changes.get("active") is False:
        await end_user_sessions(session, user.id)
    return user


def _user_snapshot(user: User) -> dict[str, object]:
    return {
        "display_name": user.display_name,
        "org_unit_code": user.org_unit_code,
        "active": user.active,
        "version": user.version,
    }


async def reset_password(session: AsyncSession, principal: Principal, user: User, temporary_password: str) -> None:
    """An administrator sets a temporary password (a user who forgot hers): her sessions end, the lockout is
    lifted, and at her next sign-in she must choose her own before anything else. Audited, without the password."""
    if principal.kind == "user" and principal.id == str(user.id):
        raise WeakPassword("password", "请在“修改密码”中修改自己的密码 / change your own password on the password page")
    check_password_strength(temporary_password, username=user.username)
    user.password_hash = security.hash_secret(temporary_password)
    user.password_changed_at = utc_now()
    user.must_change_password = True
    user.failed_login_count = 0
    user.locked_until = None
    await session.flush()
    await end_user_sessions(session, user.id)
    await audit.record(
        session, action="user.password_reset", entity_type="user", entity_id=user.id, org_unit_code=user.org_unit_code
    )


async def unlock_user(session: AsyncSession, user: User) -> None:
    user.failed_login_count = 0
    user.locked_until = None
    await session.flush()
    await audit.record(
        session, action="user.unlock", entity_type="user", entity_id=user.id, org_unit_code=user.org_unit_code
    )


async def list_users(session: AsyncSession, principal: Principal) -> list[User]:
    return await IdentityRepository(session).users_in_subtrees(principal.scopes_for(Action.users_manage))


async def grants_of(session: AsyncSession, user_id: uuid.UUID) -> list[RoleGrant]:
    return await IdentityRepository(session).active_grants(user_subject(user_id))


# --- sign-in and sessions --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SignedIn:
    user: User
    user_session: UserSession
    token: str  # the cookie's secret; only its digest is stored


def session_cookie_value(signed_in: SignedIn) -> str:
    """`<tenant id>.<secret>`: the tenant lets the lookup run under row-level security like any query."""
    return f"{signed_in.user.tenant_id}.{signed_in.token}"


async def sign_in(
    session: AsyncSession,
    settings: Settings,
    *,
    tenant_code: str,
    username: str,
    password: str,
    client_addr: str | None,
) -> SignedIn | None:
    """Check the credentials; None for any failure (counted and audited where an account exists)."""
    if refuses_control_characters(username):
        # No username holds one (the schema and the page's form refuse it too); it must not reach the database.
        security.verify_secret(None, password)
        return None
    try:
        tenant = await get_tenant_by_code(session, tenant_code)
    except TenantNotFound:
        security.verify_secret(None, password)
        return None
    await set_tenant(session, tenant.id)
    repository = IdentityRepository(session)
    user = await repository.user_by_username(username)
    now = utc_now()
    # argon2 takes tens of milliseconds of CPU: off the event loop, so sign-ins do not stall other requests.
    password_ok = await asyncio.to_thread(security.verify_secret, user.password_hash if user else None, password)
    if user is None:
        return None
    actor_var.set(user_actor(user))
    locked = user.locked_until is not None and user.locked_until > now
    if not password_ok or locked or not user.active:
        await _failed_sign_in(session, settings, user, now, locked=locked)
        return None
    await repository.clear_failed_sign_ins(user.id)
    token = security.new_token()
    user_session = UserSession(
        id=uuid.uuid4(),
        tenant_id=user.tenant_id,
        user_id=user.id,
        token_hash=security.token_digest(token),
        csrf_token=security.new_token(24),
        created_at=now,
        last_seen_at=now,
        expires_at=now + timedelta(hours=settings.session_absolute_hours),
        client_addr=client_addr,
    )
    repository.add(user_session)
    await session.flush()
    await audit.record(
        session, action="user.login", entity_type="user", entity_id=user.id, org_unit_code=user.org_unit_code
    )
    return SignedIn(user=user, user_session=user_session, token=token)


async def _failed_sign_in(
    session: AsyncSession, settings: Settings, user: User, now: datetime, *, locked: bool
) -> None:
    """Count and audit a failed sign-in of an existing account. The count is one atomic UPDATE, so parallel
    failures never conflict: the caller answers the same 401 as for an unknown account, whatever happened."""
    counted = None
    lock_until = now + timedelta(minutes=settings.login_lockout_minutes)
    if not locked:
        counted = await IdentityRepository(session).count_failed_sign_in(
            user.id, now=now, max_failures=settings.login_max_failures, lock_until=lock_until
        )
        locked = counted is None  # locked by a parallel failure since the account was read
    await audit.record(
        session,
        action="user.login_failed",
        entity_type="user",
        entity_id=user.id,
        org_unit_code=user.org_unit_code,
        reason="locked" if locked else ("inactive" if not user.active else "wrong password"),
    )
    if counted is not None and counted.locked_now:
        await audit.record(
            session,
            action="user.locked",
            entity_type="user",
            entity_id=user.id,
            org_unit_code=user.org_unit_code,
            changes=audit.diff(None, {"locked_until": lock_until}),
        )


async def _live(session: AsyncSession, settings: Settings, user_session: UserSession) -> bool:
    """Whether the session is neither ended nor expired; an expired one is ended now."""
    if user_session.ended_at is not None:
        return False
    now = utc_now()
    idle_deadline = user_session.last_seen_at + timedelta(minutes=settings.session_idle_minutes)
    if now >= user_session.expires_at or now >= idle_deadline:
        user_session.ended_at = now
        await session.flush()
        return False
    return True


def _touch(user_session: UserSession) -> None:
    now = utc_now()
    if now - user_session.last_seen_at >= SESSION_TOUCH_INTERVAL:
        user_session.last_seen_at = now


async def signed_in_principal(session: AsyncSession, settings: Settings, token: str) -> tuple[User, Principal] | None:
    """The user and principal of a live session cookie secret (tenant already set), idle and absolute expiry
    enforced, in one round trip: the grants are read on every request, so a revoked
    grant or an ended break-glass grant counts from the next request on."""
    loaded = await IdentityRepository(session).signed_in(security.token_digest(token), utc_now())
    if loaded is None or not await _live(session, settings, loaded.user_session) or not loaded.user.active:
        return None
    _touch(loaded.user_session)
    break_glass = tuple(
        BreakGlassScope(uuid.UUID(grant_id), unit, reason, datetime.fromisoformat(expires_at))
        for grant_id, unit, reason, expires_at in loaded.break_glass
    )
    roles = tuple(ScopedRole(role, unit) for role, unit in loaded.grants)
    return loaded.user, _principal(loaded.user, loaded.user_session, loaded.tenant_code, roles, break_glass)


async def end_session(session: AsyncSession, user_session: UserSession) -> None:
    user_session.ended_at = utc_now()
    await session.flush()
    await audit.record(session, action="user.logout", entity_type="user", entity_id=user_session.user_id)


async def end_user_sessions(session: AsyncSession, user_id: uuid.UUID, *, keep: uuid.UUID | None = None) -> None:
    for user_session in await IdentityRepository(session).open_sessions(user_id):
        if user_session.id != keep:
            user_session.ended_at = utc_now()
    await session.flush()


async def change_password(
    session: AsyncSession, user: User, *, current_password: str, new_password: str, keep_session: uuid.UUID | None
) -> None:
    """Verify the current password, set the new one, and end the user's other sessions."""
    if not security.verify_secret(user.password_hash, current_password):
        raise WrongCurrentPassword()
    check_password_strength(new_password, username=user.username, field="new_password")
    if security.verify_secret(user.password_hash, new_password):
        raise WeakPassword("new_password", "新密码不能与当前密码相同 / must differ from the current password")
    user.password_hash = security.hash_secret(new_password)
    user.password_changed_at = utc_now()
    user.must_change_password = False
    await session.flush()
    await end_user_sessions(session, user.id, keep=keep_session)
    # The password itself never reaches the audit log, hashed or not.
    await audit.record(
        session, action="user.password_change", entity_type="user", entity_id=user.id, org_unit_code=user.org_unit_code
    )


async def principal_for_user(
    session: AsyncSession, user: User, user_session: UserSession | None, tenant_code: str
) -> Principal:
    repository = IdentityRepository(session)
    grants = await repository.active_grants(user_subject(user.id))
    break_glass = await repository.active_break_glass(user.id, utc_now())
    return _principal(
        user,
        user_session,
        tenant_code,
        tuple(ScopedRole(g.role, g.org_unit_code) for g in grants),
        tuple(BreakGlassScope(b.id, b.org_unit_code, b.reason, b.expires_at) for b in break_glass),
    )


def _principal(
    user: User,
    user_session: UserSession | None,
    tenant_code: str,
    roles: tuple[ScopedRole, ...],
    break_glass: tuple[BreakGlassScope, ...],
) -> Principal:
    return Principal(
        kind="user",
        id=str(user.id),
        label=f"{user.display_name} ({user.username})",
        tenant_id=user.tenant_id,
        tenant_code=tenant_code,
        org_unit_code=user.org_unit_code,
        roles=roles,
        break_glass=break_glass,
        session_id=user_session.id if user_session else None,
        csrf_token=user_session.csrf_token if user_session else None,
        must_change_password=user.must_change_password,
    )


async def session_by_id(session: AsyncSession, session_id: uuid.UUID) -> UserSession:
    user_session = await session.get(UserSession, session_id)
    if user_session is None:
        raise UserNotFound()
    return user_session


async def user_for_principal(session: AsyncSession, principal: Principal) -> User:
    """The signed-in user behind a principal (department clients and the platform operator have none)."""
    if principal.kind != "user":
        raise UserNotFound()
    user = await IdentityRepository(session).user_by_id(uuid.UUID(principal.id))
    if user is None:
        raise UserNotFound()
    return user
