"""The platform operator's credential: provisioning counties only, never reading a county's personal data.

Until operator accounts exist (identity module) the operator presents PLATFORM_ADMIN_TOKEN as a bearer
token; the app refuses to start in production with the published development value.
"""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from backend.core.context import Actor, actor_var
from backend.core.errors import Unauthorized

_bearer = HTTPBearer(auto_error=False, description="PLATFORM_ADMIN_TOKEN")


async def require_platform_admin(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Actor:
    expected = request.app.state.settings.platform_admin_token
    if credentials is None or not hmac.compare_digest(credentials.credentials.encode(), expected.encode()):
        raise Unauthorized()
    actor = Actor(kind="platform_admin", id="platform", label="平台管理员 platform admin")
    actor_var.set(actor)
    return actor


PlatformAdmin = Annotated[Actor, Depends(require_platform_admin)]
