"""The one choke point: every route declares its permission through a dependency built here.

`Require(action)` authenticates the caller (browser session cookie, department API token, or the platform
operator's token), scopes the request's transaction to the caller's county, and refuses callers who hold the
action nowhere. Object-level checks then use `authorize_unit` (404 outside the caller's reach), and lists
filter on `principal.scopes_for(action)` in SQL.
"""

from __future__ import annotations

import hmac
import uuid
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from backend.authz.principal import ANY_TENANT, Principal, ScopedRole
from backend.authz.vocabulary import Action, Role
from backend.clients.service import principal_for_token
from backend.core.context import Actor, actor_var
from backend.core.errors import Forbidden, Unauthorized
from backend.db.session import SessionDep
from backend.db.tenancy import set_platform_context, set_tenant
from backend.identity.errors import CsrfRejected
from backend.identity.security import tokens_equal
from backend.identity.service import principal_for_user, resolve_session, user_actor
from backend.tenants.repository import TenantRepository

SESSION_COOKIE = "lg_session"
CSRF_HEADER = "x-csrf-token"
CSRF_FORM_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
PERMISSION_ATTRIBUTE = "__liuguan_permission__"
AUTHENTICATED = "authenticated"

PLATFORM_ACTOR = Actor(kind="platform_admin", id="platform", label="平台管理员 platform admin")


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


async def _check_csrf(request: Request, expected: str | None) -> None:
    """Cookie-authenticated writes must echo the session's CSRF token (header for scripts, field for forms)."""
    supplied = request.headers.get(CSRF_HEADER)
    if supplied is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()
        value = form.get(CSRF_FORM_FIELD)
        supplied = value if isinstance(value, str) else None
    if not expected or not supplied or not tokens_equal(supplied, expected):
        raise CsrfRejected()


async def _session_principal(request: Request, session: AsyncSession, cookie: str) -> Principal | None:
    tenant_part, _, secret = cookie.partition(".")
    try:
        tenant_id = uuid.UUID(tenant_part)
    except ValueError:
        return None
    tenant = await TenantRepository(session).get(tenant_id)
    if tenant is None or not secret:
        return None
    await set_tenant(session, tenant.id)
    resolved = await resolve_session(session, request.app.state.settings, secret)
    if resolved is None:
        return None
    user, user_session = resolved
    actor_var.set(user_actor(user))
    return await principal_for_user(session, user, user_session, tenant.code)


async def authenticate(request: Request, session: AsyncSession) -> Principal:
    """The caller, with the transaction scoped to their county; 401 when there is no valid credential."""
    cached = getattr(request.state, "principal", None)
    if cached is not None:
        return cached
    settings = request.app.state.settings
    authorization = request.headers.get("authorization", "")
    principal: Principal | None = None
    if authorization.lower().startswith("bearer "):
        token = authorization[7:].strip()
        if hmac.compare_digest(token.encode(), settings.platform_admin_token.encode()):
            principal = await platform_principal(session)
        else:
            principal = await principal_for_token(session, settings, token)
    elif cookie := request.cookies.get(SESSION_COOKIE):
        principal = await _session_principal(request, session, cookie)
        if principal is not None and request.method not in SAFE_METHODS:
            await _check_csrf(request, principal.csrf_token)
    if principal is None:
        raise Unauthorized()
    request.state.principal = principal
    return principal


def Require(action: Action) -> Callable[..., Awaitable[Principal]]:
    """A route dependency: the caller must hold `action` somewhere in their county."""

    async def require(request: Request, session: SessionDep) -> Principal:
        principal = await authenticate(request, session)
        if not principal.holds(action):
            raise Forbidden()
        return principal

    setattr(require, PERMISSION_ATTRIBUTE, action.value)
    require.__name__ = f"require_{action.name}"
    return require


async def require_authenticated(request: Request, session: SessionDep) -> Principal:
    """Any signed-in caller (their own profile, sign-out, password change)."""
    return await authenticate(request, session)


setattr(require_authenticated, PERMISSION_ATTRIBUTE, AUTHENTICATED)

Authenticated = Annotated[Principal, Depends(require_authenticated)]


def permission_of(dependency: Any) -> str | None:
    return getattr(dependency, PERMISSION_ATTRIBUTE, None)
