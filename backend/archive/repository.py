"""Every query of the yearly archive: its volumes, and the closed cases and documents a volume binds."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from backend.archive.errors import ArchiveVolumeNotFound
from backend.db.repository import TenantScopedRepository
from backend.db.scoping import subtree
from backend.models import ArchiveVolume, Case, CaseStage, Document, DocumentOwnerKind


class ArchiveRepository(TenantScopedRepository[ArchiveVolume]):
    model = ArchiveVolume
    entity_type = "archive_volume"
    not_found = ArchiveVolumeNotFound

    async def volumes(self, roots: list[str]) -> list[ArchiveVolume]:
        """The volumes under the caller's subtrees, newest year first."""
        statement = self.base().where(self.in_subtrees(roots))
        return await self.all(statement.order_by(ArchiveVolume.year.desc(), ArchiveVolume.org_unit_code))

    async def for_unit_year(self, unit_code: str, year: int, *, for_update: bool = False) -> ArchiveVolume | None:
        """The volume of this unit and year, if one was requested."""
        statement = self.base().where(ArchiveVolume.org_unit_code == unit_code, ArchiveVolume.year == year)
        return await self.one_or_none(statement.with_for_update() if for_update else statement)

    async def closed_cases(self, unit_code: str, start: datetime, end: datetime) -> list[Case]:
        """The cases of the unit's subtree closed in [start, end), in the order they closed."""
        statement = self.county_rows(Case).where(
            subtree(Case.org_unit_code, unit_code),
            Case.stage == CaseStage.closed,
            Case.closed_at >= start,
            Case.closed_at < end,
        )
        return await self.all(statement.order_by(Case.closed_at, Case.number))

    async def case_documents(self, case_ids: Sequence[uuid.UUID]) -> list[Document]:
        """The documents (not destroyed) of these cases, each case's in upload order."""
        if not case_ids:
            return []
        statement = self.county_rows(Document).where(
            Document.owner_kind == DocumentOwnerKind.case,
            Document.owner_id.in_(list(case_ids)),
            Document.destroyed_at.is_(None),
        )
        return await self.all(statement.order_by(Document.created_at, Document.id))
