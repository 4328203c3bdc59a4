"""Every query on break-glass grants, on the tenant-scoped base (backend/db/repository.py)."""

from __future__ import annotations

import uuid
from datetime import datetime

from backend.breakglass.errors import BreakGlassNotFound
from backend.db.repository import TenantScopedRepository
from backend.models import BreakGlassGrant


class BreakGlassRepository(TenantScopedRepository[BreakGlassGrant]):
    model = BreakGlassGrant
    entity_type = "break_glass"
    not_found = BreakGlassNotFound

    async def list_all(self, user_id: uuid.UUID | None = None) -> list[BreakGlassGrant]:
        """The county's grants, newest first; only one user's when `user_id` is given."""
        statement = self.base()
        if user_id is not None:
            statement = statement.where(BreakGlassGrant.user_id == user_id)
        return await self.all(statement.order_by(BreakGlassGrant.created_at.desc()))

    async def in_force_for(self, user_id: uuid.UUID, now: datetime) -> list[BreakGlassGrant]:
        """The user's grants neither revoked nor expired at `now`."""
        return await self.all(
            self.base().where(
                BreakGlassGrant.user_id == user_id,
                BreakGlassGrant.revoked_at.is_(None),
                BreakGlassGrant.expires_at > now,
            )
        )
