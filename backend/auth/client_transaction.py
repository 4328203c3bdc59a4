"""A department client authenticated on a plain asyncpg connection, inside the one transaction of its request:
the lean path of the busiest route (docs/adr/0009-lean-intake-submit-path.md), without SQLAlchemy's session.

The checks and answers are those of every other route: the same bearer token check (`principal_for_token_on`
runs the same `enter_client_context()` as `principal_for_token`, which also sets the client's row-level
context for the rest of the transaction), 401 without credentials and 403 for anyone who is not a department
client holding the action (answered by the ordinary `authenticate`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
from fastapi import Request

from backend.auth.authenticate import authenticate
from backend.auth.bearer import bearer_token, is_platform_token
from backend.authz.principal import Principal
from backend.authz.vocabulary import Action
from backend.clients.service import principal_for_token_on
from backend.core.errors import Forbidden


async def _refuse_other_callers(request: Request, action: Action) -> None:
    """Anyone but a department client: the ordinary authentication answers 401 without credentials and 403
    for a signed-in user or the platform operator. Client actions are granted only through client scopes
    (SCOPE_ACTIONS in backend/authz/vocabulary.py), so a caller who is not a client never holds one."""
    async with request.app.state.database.sessionmaker() as session, session.begin():
        principal = await authenticate(request, session)
    if not principal.holds(action) or principal.kind != "api_client":
        raise Forbidden()


@asynccontextmanager
async def client_transaction(request: Request, action: Action) -> AsyncIterator[tuple[asyncpg.Connection, Principal]]:
    """The department client holding `action`, on a pooled driver connection in one transaction that commits
    when the block ends without an error (before the response is sent) and rolls back otherwise."""
    settings = request.app.state.settings
    token = bearer_token(request)
    if token is None or is_platform_token(settings, token):
        await _refuse_other_callers(request, action)
        raise Forbidden()
    pool = await request.app.state.database.driver_pool()
    async with pool.acquire() as connection, connection.transaction():
        principal = await principal_for_token_on(connection, settings, token)
        if not principal.holds(action):
            raise Forbidden()
        request.state.principal = principal
        yield connection, principal
