"""Separation of duties (职责分离) among the people who run a county's accounts.

An administrator manages users and roles; officers read personal data. One person holding both could grant
herself the right to read full ID numbers. So:

- nobody grants a role to herself;
- a grant that would give one user both administration and a role that reads personal data (an officer role to an
  administrator, or administration to an officer) is a *request* (`RoleGrantRequest`) until a second administrator
  of the county (or the platform operator) approves it; the one who asked cannot approve, nor can the user it is
  for;
- the county always keeps an active administrator: nobody deactivates herself or the last active administrator,
  and nobody takes administration from herself or from the last one who holds it.

Every step is audited: `role_grant.create`, `role_grant.request`, `role_grant.approve`, `role_grant.refuse`.
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from backend.audit import service as audit
from backend.authz.principal import Principal
from backend.authz.vocabulary import ADMINISTRATION_ROLES, PERSONAL_DATA_ROLES, Action, Role
from backend.core.clock import utc_now
from backend.identity.errors import (
    AdministratorRequired,
    GrantRequestNotFound,
    SecondAdministratorRequired,
    SelfGrantRefused,
)
from backend.identity.repository import IdentityRepository
from backend.models import RoleGrant, RoleGrantRequest, User

APPROVED = "approved"
REFUSED = "refused"


def user_subject(user_id: uuid.UUID) -> str:
    return f"user:{user_id}"


def refuse_self_grant(granter: Principal, user: User) -> None:
    """Nobody grants a role to herself (an administrator would otherwise make herself an officer)."""
    if granter.kind == "user" and granter.id == str(user.id):
        raise SelfGrantRefused()


def combines_administration_and_personal_data(role: Role, held: set[str]) -> bool:
    """Whether granting `role` to a user holding `held` gives her both administration and personal data."""
    roles = {*held, role.value}
    return bool(roles & ADMINISTRATION_ROLES) and bool(roles & PERSONAL_DATA_ROLES)


async def add_grant(
    session: AsyncSession, user: User, role: str, org_unit_code: str, *, granted_by: str, approved_by: str | None
) -> RoleGrant:
    """The grant row and its audit event (`approved_by`: the second administrator, when one was needed)."""
    row = RoleGrant(
        id=uuid.uuid4(),
        tenant_id=user.tenant_id,
        subject=user_subject(user.id),
        role=role,
        org_unit_code=org_unit_code,
        granted_by=granted_by,
        granted_at=utc_now(),
    )
    IdentityRepository(session).add(row)
    await session.flush()
    after: dict[str, object] = {"role": row.role, "org_unit_code": row.org_unit_code}
    if approved_by is not None:
        after |= {"granted_by": granted_by, "approved_by": approved_by}
    await audit.record(
        session,
        action="role_grant.create",
        entity_type="user",
        entity_id=user.id,
        org_unit_code=org_unit_code,
        changes=audit.diff(None, after),
    )
    return row


async def request_grant(
    session: AsyncSession, granter: Principal, user: User, role: Role, org_unit_code: str
) -> RoleGrantRequest:
    """Record a grant that needs a second administrator; asking again answers the request already waiting."""
    repository = IdentityRepository(session)
    subject = user_subject(user.id)
    waiting = await repository.pending_grant_request(subject, role.value, org_unit_code)
    if waiting is not None:
        return waiting
    request = RoleGrantRequest(
        id=uuid.uuid4(),
        tenant_id=user.tenant_id,
        subject=subject,
        role=role.value,
        org_unit_code=org_unit_code,
        requested_by=granter.subject,
        requested_at=utc_now(),
    )
    repository.add(request)
    await session.flush()
    await audit.record(
        session,
        action="role_grant.request",
        entity_type="user",
        entity_id=user.id,
        org_unit_code=org_unit_code,
        reason="职责分离：须另一位管理员批准 / separation of duties: a second administrator must approve",
        changes=audit.diff(None, {"role": role.value, "org_unit_code": org_unit_code, "request_id": request.id}),
    )
    return request


def _may_decide(principal: Principal, request: RoleGrantRequest) -> bool:
    if principal.kind == "platform_admin":
        return True
    return principal.kind == "user" and principal.can(Action.users_manage, request.org_unit_code)


async def pending_requests(session: AsyncSession, principal: Principal) -> list[RoleGrantRequest]:
    """The requests waiting in the units the principal administers (all of the county for the platform)."""
    roots = [""] if principal.kind == "platform_admin" else principal.scopes_for(Action.users_manage)
    return await IdentityRepository(session).pending_grant_requests(roots)


async def pending_for(session: AsyncSession, principal: Principal, user: User) -> list[RoleGrantRequest]:
    """The requests waiting for a decision about one user, among those the principal may see."""
    subject = user_subject(user.id)
    return [request for request in await pending_requests(session, principal) if request.subject == subject]


async def _decidable(session: AsyncSession, principal: Principal, request_id: uuid.UUID) -> RoleGrantRequest:
    request = await IdentityRepository(session).grant_request(request_id)
    if request is None or request.decided_at is not None or not _may_decide(principal, request):
        raise GrantRequestNotFound()
    # The second administrator is someone else than the one who asked and the one who would hold the grant.
    if principal.subject in (request.requested_by, request.subject):
        raise SecondAdministratorRequired()
    return request


async def approve(session: AsyncSession, principal: Principal, request_id: uuid.UUID) -> RoleGrant:
    """A second administrator (or the platform operator) approves: the grant is made."""
    request = await _decidable(session, principal, request_id)
    repository = IdentityRepository(session)
    user = await repository.user_by_id(uuid.UUID(request.subject.removeprefix("user:")))
    if user is None:
        raise GrantRequestNotFound()
    request.decision, request.decided_by, request.decided_at = APPROVED, principal.subject, utc_now()
    held = [
        g for g in await _grants(session, user) if (g.role, g.org_unit_code) == (request.role, request.org_unit_code)
    ]
    if held:  # granted meanwhile by someone allowed to: the request is settled by that grant
        grant = held[0]
    else:
        grant = await add_grant(
            session,
            user,
            request.role,
            request.org_unit_code,
            granted_by=request.requested_by,
            approved_by=principal.subject,
        )
    request.grant_id = grant.id
    await session.flush()
    await audit.record(
        session,
        action="role_grant.approve",
        entity_type="user",
        entity_id=user.id,
        org_unit_code=request.org_unit_code,
        changes=audit.diff(None, {"request_id": request.id, "role": request.role, "grant_id": grant.id}),
    )
    return grant


async def refuse(
    session: AsyncSession, principal: Principal, request_id: uuid.UUID, reason: str | None
) -> RoleGrantRequest:
    """A second administrator (or the platform operator) refuses: no grant, the request stays as the record."""
    request = await _decidable(session, principal, request_id)
    request.decision, request.decided_by, request.decided_at = REFUSED, principal.subject, utc_now()
    request.reason = reason
    await session.flush()
    await audit.record(
        session,
        action="role_grant.refuse",
        entity_type="user",
        entity_id=uuid.UUID(request.subject.removeprefix("user:")),
        org_unit_code=request.org_unit_code,
        reason=reason,
        changes=audit.diff(None, {"request_id": request.id, "role": request.role}),
    )
    return request


async def _grants(session: AsyncSession, user: User) -> list[RoleGrant]:
    return await IdentityRepository(session).active_grants(user_subject(user.id))


async def _administers(session: AsyncSession, user: User) -> bool:
    return any(grant.role in ADMINISTRATION_ROLES for grant in await _grants(session, user))


async def keep_an_administrator(session: AsyncSession, principal: Principal, user: User) -> None:
    """Refuse to deactivate `user` (or to take administration from her) when she is the principal herself, or the
    county's last active administrator: the county would be locked out of its own administration."""
    if principal.kind == "user" and principal.id == str(user.id):
        raise AdministratorRequired(
            "不能停用自己或撤销自己的管理员角色 / you cannot deactivate yourself or drop your own administration"
        )
    if not user.active or not await _administers(session, user):
        return
    others = await IdentityRepository(session).active_users_holding(ADMINISTRATION_ROLES, excluding=user.id)
    if not others:
        raise AdministratorRequired("这是本县最后一位在用的系统管理员 / this is the county's last active administrator")
