"""One transaction per request: the session dependency commits when the route returns and rolls back
when it raises. Services flush, never commit."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from backend.db.engine import Database


def get_database(request: Request) -> Database:
    return request.app.state.database


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    database = get_database(request)
    async with database.sessionmaker() as session, session.begin():
        # Sessions opened by a request are never shared; the tenant is set by the auth dependency.
        yield session


# scope="function": the commit runs when the route function returns, before the response is sent, so a
# failed commit becomes an error response instead of a success for a write that was lost.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]

# The database itself, for the services that hand work to a transaction of their own after this one commits.
DatabaseDep = Annotated[Database, Depends(get_database)]
