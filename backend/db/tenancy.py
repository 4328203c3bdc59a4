"""Row-level-security context for a transaction.

Every tenant-owned table has a forced policy comparing `tenant_id` with the transaction-local setting
`app.tenant_id`. With nothing set, tenant tables show no rows at all. `set_config(..., true)` is the
function form of `SET LOCAL`: it ends with the transaction, so a pooled connection never carries a
tenant into the next request.
"""

from __future__ import annotations

import uuid

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

TENANT_SETTING = "app.tenant_id"
PLATFORM_SETTING = "app.platform"
API_CLIENT_SETTING = "app.api_client"


async def set_tenant(session: AsyncSession, tenant_id: uuid.UUID) -> None:
    """Scope the current transaction to one county."""
    await session.execute(
        text("SELECT set_config(:name, :value, true)"), {"name": TENANT_SETTING, "value": str(tenant_id)}
    )
    session.info["tenant_id"] = tenant_id


async def clear_tenant(session: AsyncSession) -> None:
    """Leave the current transaction scoped to no county (tenant tables show no rows again)."""
    await session.execute(text("SELECT set_config(:name, '', true)"), {"name": TENANT_SETTING})
    session.info.pop("tenant_id", None)


async def set_platform_context(session: AsyncSession) -> None:
    """Allow the current transaction to provision tenants. It grants no access to any tenant's rows."""
    await set_platform_setting(session, "on")


async def set_platform_setting(session: AsyncSession, value: str) -> None:
    """Set the platform context to `value` ('on', or '' to leave it; see `read_setting`)."""
    await session.execute(text("SELECT set_config(:name, :value, true)"), {"name": PLATFORM_SETTING, "value": value})


async def read_setting(session: AsyncSession, name: str) -> str:
    """A transaction setting's current value ('' when unset), e.g. to restore it after a detour."""
    value = (await session.execute(text("SELECT current_setting(:name, true)"), {"name": name})).scalar()
    return str(value or "")


async def set_api_client(session: AsyncSession, client_id: str) -> None:
    """Name the department client of this transaction: tables shared across counties (department
    notifications) show a client its own rows through this setting."""
    await session.execute(
        text("SELECT set_config(:name, :value, true)"), {"name": API_CLIENT_SETTING, "value": client_id}
    )


def current_tenant_id(session: AsyncSession) -> uuid.UUID:
    """The tenant this transaction was scoped to; repositories filter on it as a second lock."""
    tenant_id = session.info.get("tenant_id")
    if tenant_id is None:
        raise RuntimeError("no tenant set on this session: call set_tenant() first")
    return tenant_id
