"""Queries on tenants. The tenant list itself is readable by everyone (routing between counties needs it)."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.models import Tenant


class TenantRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get_by_code(self, code: str) -> Tenant | None:
        return (await self.session.execute(select(Tenant).where(Tenant.code == code))).scalar_one_or_none()

    async def get(self, tenant_id: uuid.UUID) -> Tenant | None:
        return await self.session.get(Tenant, tenant_id)

    async def list_all(self) -> list[Tenant]:
        return list((await self.session.execute(select(Tenant).order_by(Tenant.code))).scalars().all())

    async def active_codes(self) -> frozenset[str]:
        """The county codes of the active counties on this instance."""
        return frozenset((await self.session.execute(select(Tenant.code).where(Tenant.active.is_(True)))).scalars())

    def add(self, tenant: Tenant) -> None:
        self.session.add(tenant)
