"""Every query on `case_type_configs`: one row per county and code holding the county's override of a type."""

from __future__ import annotations

from backend.case_types.errors import CaseTypeNotFound
from backend.db.repository import TenantScopedRepository
from backend.models import CaseTypeConfig


class CaseTypeConfigRepository(TenantScopedRepository[CaseTypeConfig]):
    model = CaseTypeConfig
    unit_column = None  # a county-wide setting: not placed in the org tree
    entity_type = "case_type"
    not_found = CaseTypeNotFound

    async def overrides(self) -> list[CaseTypeConfig]:
        """The county's override rows."""
        return await self.all(self.base())

    async def by_code(self, code: str, *, for_update: bool = False) -> CaseTypeConfig | None:
        """The county's override row of one type (or of another code kept in the table, such as the follow-up
        rules), locked for the transaction when about to change it."""
        statement = self.base().where(CaseTypeConfig.code == code)
        if for_update:
            statement = statement.with_for_update()
        return await self.one_or_none(statement)
