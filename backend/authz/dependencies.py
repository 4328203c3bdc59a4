"""The one choke point: every route declares its permission through a dependency built here.

`Require(action)` has the caller authenticated by the app's authenticator (`backend/auth/`, installed by
`backend/main.py`: browser session cookie, department API token, or the platform operator's token; it also
scopes the request's transaction to the caller's county), then refuses callers who hold the action nowhere.
Object-level checks then use `authorize_unit` (404 outside the caller's reach), and lists filter on
`principal.scopes_for(action)` in SQL. This module decides; it does not know how callers prove who they are.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

from fastapi import Depends, FastAPI, Request
from sqlalchemy.ext.asyncio import AsyncSession

from backend.authz.principal import Principal
from backend.authz.vocabulary import Action
from backend.core.errors import DomainError, Forbidden
from backend.db.session import SessionDep

PERMISSION_ATTRIBUTE = "__liuguan_permission__"
AUTHENTICATED = "authenticated"

Authenticator = Callable[[Request, AsyncSession], Awaitable[Principal]]
"""Who is calling, with the transaction scoped to their county; raises `Unauthorized` without a credential."""
Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])


def install_authenticator(app: FastAPI, authenticator: Authenticator) -> None:
    """Set how this app's requests are authenticated (done once, by the composition root)."""
    app.state.authenticate = authenticator


async def authenticated(request: Request, session: AsyncSession) -> Principal:
    """The caller, as the app's authenticator finds them."""
    authenticator: Authenticator | None = getattr(request.app.state, "authenticate", None)
    if authenticator is None:
        raise RuntimeError("no authenticator installed on this app (backend/main.py installs backend/auth/)")
    return await authenticator(request, session)


class PasswordChangeRequired(DomainError):
    """An administrator reset the password: the user chooses her own before doing anything else (a page sends her
    to the password page)."""

    def __init__(self) -> None:
        super().__init__(
            detail="请先修改密码 / choose a new password first", status_code=403, code="PASSWORD_CHANGE_REQUIRED"
        )


async def working(request: Request, session: AsyncSession) -> Principal:
    """The caller, unless she must change her password first (only `Authenticated` routes are open to her then:
    the password change, sign-out, her own profile)."""
    principal = await authenticated(request, session)
    if principal.must_change_password:
        raise PasswordChangeRequired()
    return principal


def Require(action: Action) -> Callable[..., Awaitable[Principal]]:
    """A route dependency: the caller must hold `action` somewhere in their county."""

    async def require(request: Request, session: SessionDep) -> Principal:
        principal = await working(request, session)
        if not principal.holds(action):
            raise Forbidden()
        return principal

    setattr(require, PERMISSION_ATTRIBUTE, action.value)
    require.__name__ = f"require_{action.name}"
    return require


def RequireAny(*actions: Action) -> Callable[..., Awaitable[Principal]]:
    """A route dependency: the caller must hold one of `actions` somewhere in their county (a reading that serves
    both those who work with a thing and those who configure it). Declared as "a|b" (`permission_of`)."""

    async def require_any(request: Request, session: SessionDep) -> Principal:
        principal = await working(request, session)
        if not any(principal.holds(action) for action in actions):
            raise Forbidden()
        return principal

    setattr(require_any, PERMISSION_ATTRIBUTE, "|".join(action.value for action in actions))
    require_any.__name__ = "require_" + "_or_".join(action.name for action in actions)
    return require_any


async def require_authenticated(request: Request, session: SessionDep) -> Principal:
    """Any signed-in caller (their own profile, sign-out, password change)."""
    return await authenticated(request, session)


setattr(require_authenticated, PERMISSION_ATTRIBUTE, AUTHENTICATED)

Authenticated = Annotated[Principal, Depends(require_authenticated)]


def declares(action: Action) -> Callable[[Endpoint], Endpoint]:
    """Mark an endpoint that checks `action` itself (the lean intake submit routes), so the route table and its
    test (tests/backend/authz/route_table.py) see the permission as they see `Require(action)`'s."""

    def mark(endpoint: Endpoint) -> Endpoint:
        setattr(endpoint, PERMISSION_ATTRIBUTE, action.value)
        return endpoint

    return mark


def permission_of(dependency: Any) -> str | None:
    """The permission a dependency or an endpoint declares, if any."""
    return getattr(dependency, PERMISSION_ATTRIBUTE, None)
