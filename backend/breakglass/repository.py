from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.db.tenancy import current_tenant_id
from backend.models import BreakGlassGrant


class BreakGlassRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def list_all(self, user_id: uuid.UUID | None = None) -> list[BreakGlassGrant]:
        """The county's grants, newest first; only one user's when `user_id` is given."""
        statement = select(BreakGlassGrant).where(BreakGlassGrant.tenant_id == current_tenant_id(self.session))
        if user_id is not None:
            statement = statement.where(BreakGlassGrant.user_id == user_id)
        return list((await self.session.execute(statement.order_by(BreakGlassGrant.created_at.desc()))).scalars())

    async def get(self, grant_id: uuid.UUID) -> BreakGlassGrant | None:
        statement = select(BreakGlassGrant).where(
            BreakGlassGrant.tenant_id == current_tenant_id(self.session), BreakGlassGrant.id == grant_id
        )
        return (await self.session.execute(statement)).scalar_one_or_none()
