"""Bearer tokens: `Authorization: Bearer <token>` is the platform operator's token (compared in constant time)
or a department client's access token (backend/clients/service.py checks it)."""

from __future__ import annotations

import hmac

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession

from backend.authz.principal import ANY_TENANT, Principal, ScopedRole
from backend.authz.vocabulary import Role
from backend.config import Settings
from backend.core.context import Actor, actor_var
from backend.db.tenancy import set_platform_context

PLATFORM_ACTOR = Actor(kind="platform_admin", id="platform", label="平台管理员 platform admin")


def bearer_token(request: Request) -> str | None:
    """The request's bearer token, or None when it carries none."""
    authorization = request.headers.get("authorization", "")
    if not authorization.lower().startswith("bearer "):
        return None
    return authorization[7:].strip()


def is_platform_token(settings: Settings, token: str) -> bool:
    """Whether the token is the platform operator's (constant time)."""
    return hmac.compare_digest(token.encode(), settings.platform_admin_token.encode())


async def platform_principal(session: AsyncSession) -> Principal:
    """The platform operator, the transaction in the platform context (the bearer token here, the platform
    pages' own sign-in in frontend/pages/platform.py)."""
    await set_platform_context(session)
    actor_var.set(PLATFORM_ACTOR)
    return Principal(
        kind="platform_admin",
        id="platform",
        label=PLATFORM_ACTOR.label,
        tenant_id=None,
        tenant_code=None,
        org_unit_code=None,
        roles=(ScopedRole(Role.platform_admin, ANY_TENANT),),
    )
