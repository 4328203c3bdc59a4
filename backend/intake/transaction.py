"""The department submit path's transaction: a pooled asyncpg connection, one transaction, the client's
row-level context — without SQLAlchemy's session or FastAPI's dependency chain.

Submitting notifications is the busiest path in the product (a police system may post each registration as
it happens) and the cheapest in work: check the token, insert, commit. On it, the generic request machinery
cost several times the work itself (docs/adr/0009-lean-intake-submit-path.md has the figures). Everything
that matters is the same as on every other route: the permission is checked (401/403 as `Require` answers
them), one transaction per request that commits before the response is sent and rolls back on any error,
row-level security through the same `enter_client_context()` as the token check elsewhere, and the same
typed errors. Every other intake route (status, triage, webhooks) uses the ordinary session.
"""

from __future__ import annotations

import hmac
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from fastapi import Request

from backend.authz.dependencies import PERMISSION_ATTRIBUTE, authenticate
from backend.authz.principal import Principal
from backend.authz.vocabulary import Action
from backend.clients.service import principal_for_token_on
from backend.core.errors import Forbidden
from backend.intake.ratelimit import enforce_rate_limit
from backend.intake.repository import NotificationIntake

Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])


def declares(action: Action) -> Callable[[Endpoint], Endpoint]:
    """Mark an endpoint that checks `action` itself (through `client_transaction`), so the route table and its
    test (tests/backend/authz/route_table.py) see the permission as they see `Require(action)`'s."""

    def mark(endpoint: Endpoint) -> Endpoint:
        setattr(endpoint, PERMISSION_ATTRIBUTE, action.value)
        return endpoint

    return mark


def _bearer_token(request: Request) -> str | None:
    authorization = request.headers.get("authorization", "")
    if not authorization.lower().startswith("bearer "):
        return None
    token = authorization[7:].strip()
    settings = request.app.state.settings
    if hmac.compare_digest(token.encode(), settings.platform_admin_token.encode()):
        return None  # the platform operator: not a department client
    return token


async def _refuse_other_callers(request: Request, action: Action) -> None:
    """Anyone but a department client: the ordinary authentication answers 401 without credentials and 403
    for a signed-in user or the platform operator. `action` is granted only through client scopes
    (SCOPE_ACTIONS in backend/authz/vocabulary.py), so a caller who is not a client never holds it."""
    async with request.app.state.database.sessionmaker() as session, session.begin():
        principal = await authenticate(request, session)
    if not principal.holds(action) or principal.kind != "api_client":
        raise Forbidden()


@asynccontextmanager
async def client_transaction(request: Request, action: Action) -> AsyncIterator[tuple[NotificationIntake, Principal]]:
    """The submitting client and the notification store, in one transaction that commits when the block ends
    without an error (before the response is sent) and rolls back otherwise."""
    token = _bearer_token(request)
    if token is None:
        await _refuse_other_callers(request, action)
    assert token is not None
    pool = await request.app.state.database.driver_pool()
    async with pool.acquire() as connection, connection.transaction():
        principal = await principal_for_token_on(connection, request.app.state.settings, token)
        if not principal.holds(action):
            raise Forbidden()
        enforce_rate_limit(principal.id, request.app.state.settings)
        request.state.principal = principal
        yield NotificationIntake(connection), principal
