"""Every query on the org tree, on the tenant-scoped base (backend/db/repository.py). A unit's code is its place
in the tree: subtrees are code ranges (backend/db/scoping.py)."""

from __future__ import annotations

from backend.db.repository import TenantScopedRepository
from backend.models import OrgUnit
from backend.org.errors import OrgUnitNotFound


class OrgUnitRepository(TenantScopedRepository[OrgUnit]):
    model = OrgUnit
    unit_column = "code"
    entity_type = "org_unit"
    not_found = OrgUnitNotFound

    async def get_by_code(self, code: str) -> OrgUnit | None:
        """The unit with this code in the current county, or None."""
        return await self.one_or_none(self.base().where(OrgUnit.code == code))

    async def all_by_code(self) -> dict[str, OrgUnit]:
        """The whole tree of the tenant, keyed by code (a county has hundreds of units, not millions)."""
        return {unit.code: unit for unit in await self.all(self.base())}

    async def list_subtree(self, root_code: str, *, include_inactive: bool = False) -> list[OrgUnit]:
        """The unit with this code and everything below it, in code order."""
        statement = self.base().where(self.in_subtree(root_code))
        if not include_inactive:
            statement = statement.where(OrgUnit.active.is_(True))
        return await self.all(statement.order_by(OrgUnit.code))

    async def list_under_roots(self, roots: list[str], *, active_only: bool = True) -> list[OrgUnit]:
        """The units (active ones only, by default) under any of the roots ('' = the whole county), in code
        order."""
        statement = self.base().where(self.in_subtrees(roots))
        if active_only:
            statement = statement.where(OrgUnit.active.is_(True))
        return await self.all(statement.order_by(OrgUnit.code))
