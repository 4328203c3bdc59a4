"""The caller of a request: a department client or the platform operator by bearer token, or a signed-in user by
session cookie (with CSRF on writes). `backend/main.py` installs `authenticate` as the app's authenticator;
`Require(action)` (backend/authz/dependencies.py) calls it, then decides."""

from __future__ import annotations

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession

from backend.auth.bearer import bearer_token, is_platform_token, platform_principal
from backend.auth.cookie import SAFE_METHODS, SESSION_COOKIE, check_csrf, session_principal
from backend.authz.principal import Principal
from backend.clients.service import principal_for_token
from backend.core.errors import Unauthorized


async def authenticate(request: Request, session: AsyncSession) -> Principal:
    """The caller, with the transaction scoped to their county; 401 when there is no valid credential. Once
    per request: a second call (a route with two permission dependencies) answers from `request.state`."""
    cached = getattr(request.state, "principal", None)
    if cached is not None:
        return cached
    settings = request.app.state.settings
    principal: Principal | None = None
    if (token := bearer_token(request)) is not None:
        if is_platform_token(settings, token):
            principal = await platform_principal(session)
        else:
            principal = await principal_for_token(session, settings, token)
    elif cookie := request.cookies.get(SESSION_COOKIE):
        principal = await session_principal(request, session, cookie)
        if principal is not None and request.method not in SAFE_METHODS:
            await check_csrf(request, principal.csrf_token)
    if principal is None:
        raise Unauthorized()
    request.state.principal = principal
    return principal
