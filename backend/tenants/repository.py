"""Queries on tenants. The tenant list itself is readable by everyone (routing between counties needs it), so
these rows belong to no county: the plain `Repository` base."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from backend.db.repository import Repository
from backend.models import Tenant


class TenantRepository(Repository):
    async def get_by_code(self, code: str) -> Tenant | None:
        """The county with this 6-digit code, or None."""
        return await self.one_or_none(select(Tenant).where(Tenant.code == code))

    async def get(self, tenant_id: uuid.UUID) -> Tenant | None:
        """The county with this id, or None."""
        return await self.session.get(Tenant, tenant_id)

    async def list_all(self) -> list[Tenant]:
        """Every county on the instance (active or not), by code."""
        return await self.all(select(Tenant).order_by(Tenant.code))

    async def active_codes(self) -> frozenset[str]:
        """The county codes of the active counties on this instance."""
        return frozenset(await self.all(select(Tenant.code).where(Tenant.active.is_(True))))
