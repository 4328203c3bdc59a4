"""Browser sessions: the `lg_session` cookie (`<tenant id>.<secret>`) and CSRF.

The cookie names its county, so the session lookup runs under that county's row-level policy like any query.
Cookie-authenticated writes must echo the session's CSRF token, in the header `X-CSRF-Token` (scripts) or the
form field `csrf_token` (forms).
"""

from __future__ import annotations

import uuid

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession

from backend.authz.principal import Principal
from backend.core.context import actor_var
from backend.db.tenancy import set_tenant
from backend.identity.errors import CsrfRejected
from backend.identity.security import tokens_equal
from backend.identity.service import signed_in_principal, user_actor

SESSION_COOKIE = "lg_session"
CSRF_HEADER = "x-csrf-token"
CSRF_FORM_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


async def check_csrf(request: Request, expected: str | None) -> None:
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


async def session_principal(request: Request, session: AsyncSession, cookie: str) -> Principal | None:
    """The signed-in user of a live session cookie, the transaction scoped to her county; None otherwise."""
    tenant_part, _, secret = cookie.partition(".")
    try:
        tenant_id = uuid.UUID(tenant_part)
    except ValueError:
        return None
    if not secret:
        return None
    # The county comes back with the session (one round trip for session, user, county and grants); an unknown
    # county id finds no session under its row-level policy.
    await set_tenant(session, tenant_id)
    signed_in = await signed_in_principal(session, request.app.state.settings, secret)
    if signed_in is None:
        return None
    user, principal = signed_in
    actor_var.set(user_actor(user))
    return principal
