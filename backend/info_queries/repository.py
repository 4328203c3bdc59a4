"""Every query on the information-query ledger."""

from __future__ import annotations

import uuid

from backend.db.repository import TenantScopedRepository
from backend.info_queries.errors import InfoQueryNotFound
from backend.models import Document, DocumentOwnerKind, InfoQuery, Person


class InfoQueryRepository(TenantScopedRepository[InfoQuery]):
    model = InfoQuery
    entity_type = "info_query"
    not_found = InfoQueryNotFound

    async def ledger(self, roots: list[str], *, offset: int, limit: int) -> tuple[list[InfoQuery], int]:
        """One page of the ledger in the caller's reach, in date order (「按时间顺序装订成册」)."""
        statement = self.base().where(self.in_subtrees(roots))
        total = await self.count(statement)
        ordered = statement.order_by(InfoQuery.requested_at, InfoQuery.number).offset(offset).limit(limit)
        return await self.all(ordered), total

    async def same_name_count(self, name: str) -> int:
        """How many registered persons of the county bear `name` (a newborn-name check answers only this)."""
        return await self.count(self.county_rows(Person).where(Person.name == name))

    async def application_scans(self, query_id: uuid.UUID) -> list[Document]:
        """The scans of the entry's signed application form (documents of the entry, not destroyed), newest first."""
        statement = self.county_rows(Document).where(
            Document.owner_kind == DocumentOwnerKind.info_query,
            Document.owner_id == query_id,
            Document.destroyed_at.is_(None),
        )
        return await self.all(statement.order_by(Document.created_at.desc()))
