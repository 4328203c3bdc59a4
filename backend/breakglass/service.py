"""Break-glass (紧急授权): time-boxed read access to another village or township of one's own county.

A supervisor asks with a written reason; access is read-only, expires by itself (default 2 hours), every read
under it is audited with the reason (backend/authz/service.py), and county supervisors see all grants.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from backend.audit import service as audit
from backend.authz.principal import Principal
from backend.authz.vocabulary import BREAK_GLASS_ACTIONS, Action
from backend.breakglass.errors import BreakGlassNotFound, BreakGlassRejected
from backend.breakglass.repository import BreakGlassRepository
from backend.breakglass.schemas import BreakGlassRequest
from backend.config import Settings
from backend.core.clock import utc_now
from backend.core.errors import Forbidden
from backend.models import BreakGlassGrant
from backend.org.repository import OrgUnitRepository

ENTITY_TYPE = "break_glass"


async def request_break_glass(
    session: AsyncSession, settings: Settings, principal: Principal, request: BreakGlassRequest
) -> BreakGlassGrant:
    """Grant the asking supervisor read access to a unit outside her reach for a while, with her reason. Audited."""
    unit = await OrgUnitRepository(session).get_by_code(request.org_unit_code)
    if unit is None or not unit.active:
        raise BreakGlassRejected("org_unit_code", "本县没有该组织机构 / no such unit in this county")
    if all(principal.can(action, unit.code) for action in BREAK_GLASS_ACTIONS):
        raise BreakGlassRejected("org_unit_code", "您已有该单位的查阅权限 / you can already read this unit")
    minutes = request.minutes or settings.break_glass_default_minutes
    if minutes > settings.break_glass_max_minutes:
        raise BreakGlassRejected(
            "minutes",
            f"最长{settings.break_glass_max_minutes}分钟 / at most {settings.break_glass_max_minutes} minutes",
        )
    now = utc_now()
    repository = BreakGlassRepository(session)
    grant = BreakGlassGrant(
        id=uuid.uuid4(),
        tenant_id=repository.tenant_id,
        user_id=uuid.UUID(principal.id),
        org_unit_code=unit.code,
        reason=request.reason,
        created_at=now,
        expires_at=now + timedelta(minutes=minutes),
    )
    repository.add(grant)
    await session.flush()
    changes = audit.diff(None, {"org_unit_code": unit.code, "expires_at": grant.expires_at})
    await audit.record_about(
        session, ENTITY_TYPE, grant, "break_glass.grant", changes, reason=request.reason, correlation_id=str(grant.id)
    )
    return grant


async def list_grants(session: AsyncSession, principal: Principal) -> list[BreakGlassGrant]:
    """Reviewers (county supervisors, auditors) see every grant of the county; others only their own."""
    if principal.kind != "user":
        raise Forbidden()
    reviewer = principal.can(Action.breakglass_review, principal.tenant_code or "")
    user_id = None if reviewer else uuid.UUID(principal.id)
    return await BreakGlassRepository(session).list_all(user_id)


async def revoke_grant(session: AsyncSession, principal: Principal, grant_id: uuid.UUID) -> BreakGlassGrant:
    """The holder or a reviewer ends a grant early."""
    if principal.kind != "user":
        raise Forbidden()
    grant = await BreakGlassRepository(session).get(grant_id)
    reviewer = principal.can(Action.breakglass_review, principal.tenant_code or "")
    if grant is None or not (reviewer or str(grant.user_id) == principal.id):
        raise BreakGlassNotFound()
    if grant.revoked_at is None:
        grant.revoked_at = utc_now()
        await session.flush()
        await audit.record_about(session, ENTITY_TYPE, grant, "break_glass.revoke", correlation_id=str(grant.id))
    return grant
