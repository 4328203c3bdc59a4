"""Every query on `county_settings`: one row per county."""

from __future__ import annotations

from backend.db.repository import TenantScopedRepository
from backend.models import CountySetting


class CountySettingRepository(TenantScopedRepository[CountySetting]):
    model = CountySetting
    unit_column = None  # a county-wide setting: not placed in the org tree
    entity_type = "county_settings"

    async def current(self, *, for_update: bool = False) -> CountySetting | None:
        """The county's settings row (None until first saved), locked when about to change it."""
        statement = self.base()
        if for_update:
            statement = statement.with_for_update()
        return await self.one_or_none(statement)
