"""The one query of the demo: wiping every county for `python -m backend.cli demo reset`.

It runs as the schema owner: TRUNCATE is not subject to row-level security (the application role may neither
truncate nor see across counties). Truncating `tenants` cascades to every table that refers to a county; the
instance-wide tables (the official calendar, the schema version) stay.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine


async def wipe_counties(owner: AsyncEngine) -> None:
    """Remove every county and everything that belongs to one."""
    async with owner.begin() as connection:
        await connection.execute(text("TRUNCATE tenants CASCADE"))
