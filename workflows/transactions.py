"""The transaction an activity works in: one per activity call, scoped to one county, with the domain's
not-found turned into a non-retryable ApplicationError whose `type` names it (retrying could not make the row
appear). Anything else (the database unreachable, a deadlock) propagates and Temporal retries the activity."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.exceptions import ApplicationError

from backend.db.engine import Database
from backend.db.tenancy import set_tenant


@asynccontextmanager
async def county_transaction(
    database: Database, tenant_id: UUID, *, not_found: type[Exception]
) -> AsyncIterator[AsyncSession]:
    """A session in one transaction scoped to the county `tenant_id`; `not_found` raised inside becomes an
    ApplicationError of that type's name."""
    try:
        async with database.sessionmaker() as session, session.begin():
            await set_tenant(session, tenant_id)
            yield session
    except not_found as error:
        raise ApplicationError(str(error), type=not_found.__name__, non_retryable=True) from None
