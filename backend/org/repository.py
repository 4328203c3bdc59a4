"""Every query on the org tree. Subtrees are code prefixes (see OrgUnit)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.db.scoping import subtree, under_roots
from backend.db.tenancy import current_tenant_id
from backend.models import OrgUnit


class OrgUnitRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def _base(self):  # type: ignore[no-untyped-def]
        return select(OrgUnit).where(OrgUnit.tenant_id == current_tenant_id(self.session))

    async def get_by_code(self, code: str) -> OrgUnit | None:
        return (await self.session.execute(self._base().where(OrgUnit.code == code))).scalar_one_or_none()

    async def all_by_code(self) -> dict[str, OrgUnit]:
        """The whole tree of the tenant, keyed by code (a county has hundreds of units, not millions)."""
        units = (await self.session.execute(self._base())).scalars().all()
        return {unit.code: unit for unit in units}

    async def list_subtree(self, root_code: str, *, include_inactive: bool = False) -> list[OrgUnit]:
        """The unit with this code and everything below it, in code order."""
        statement = self._base().where(subtree(OrgUnit.code, root_code))
        if not include_inactive:
            statement = statement.where(OrgUnit.active.is_(True))
        return list((await self.session.execute(statement.order_by(OrgUnit.code))).scalars().all())

    def add(self, unit: OrgUnit) -> None:
        self.session.add(unit)

    async def list_under_roots(self, roots: list[str]) -> list[OrgUnit]:
        statement = self._base().where(OrgUnit.active.is_(True), under_roots(OrgUnit.code, roots))
        return list((await self.session.execute(statement.order_by(OrgUnit.code))).scalars().all())
