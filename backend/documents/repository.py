"""Every query of the documents domain: documents, the issued-documents register and the issuing lock. Built on the
tenant-scoped base; subtree scoping is the caller's list of roots (Principal.scopes_for)."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import Select, func, select, text

from backend.db.repository import TenantScopedRepository
from backend.documents.errors import DocumentNotFound
from backend.models import Document, DocumentOwnerKind, IssuedDocument


class DocumentRepository(TenantScopedRepository[Document]):
    model = Document
    entity_type = "document"
    not_found = DocumentNotFound

    async def for_owner(self, owner_kind: DocumentOwnerKind, owner_id: uuid.UUID, roots: list[str]) -> list[Document]:
        """An owner's documents kept by units under `roots`, newest first (destroyed ones included)."""
        statement = self.base().where(
            Document.owner_kind == owner_kind, Document.owner_id == owner_id, self.in_subtrees(roots)
        )
        return await self.all(statement.order_by(Document.created_at.desc(), Document.id))

    async def superseded_by(self, document_id: uuid.UUID) -> uuid.UUID | None:
        """The newer version pointing at this document, if any."""
        statement = select(Document.id).where(self.in_county(), Document.supersedes_id == document_id)
        return await self.first(statement.limit(1))

    async def known_keys(self, keys: list[str]) -> set[str]:
        """Which of these object keys have a row (destroyed rows count: their object is gone anyway)."""
        if not keys:
            return set()
        return set(await self.all(select(Document.object_key).where(self.in_county(), Document.object_key.in_(keys))))

    async def past_retention(
        self, roots: list[str], today: date, *, offset: int, limit: int
    ) -> tuple[list[Document], int]:
        """Documents kept under `roots` past their retention day and not destroyed yet, oldest first."""
        statement = self.base().where(
            Document.retain_until < today, Document.destroyed_at.is_(None), self.in_subtrees(roots)
        )
        return await self.page(statement.order_by(Document.retain_until, Document.id), offset=offset, limit=limit)

    # --- the issued-documents register ---------------------------------------------------------------------

    def _issued(self) -> Select[IssuedDocument]:
        return self.county_rows(IssuedDocument)

    async def issued_for_case(self, case_id: uuid.UUID) -> list[IssuedDocument]:
        """The case's issued-documents register, oldest first."""
        statement = self._issued().where(IssuedDocument.case_id == case_id)
        return await self.all(statement.order_by(IssuedDocument.issue_date, IssuedDocument.number))

    async def issued(self, issued_id: uuid.UUID) -> IssuedDocument | None:
        """One issued document of this county, or None."""
        return await self.one_or_none(self._issued().where(IssuedDocument.id == issued_id))

    async def issued_by_token(self, token: str) -> IssuedDocument | None:
        """The issued document carrying this verification token (its QR code), or None."""
        return await self.one_or_none(self._issued().where(IssuedDocument.verify_token == token))

    async def count_issued(self, year: int) -> int:
        """How many documents this county issued in `year` (numbers are per county and year)."""
        return await self.count(self._issued().where(func.extract("year", IssuedDocument.issue_date) == year))

    async def lock_issuing(self, county_code: str) -> None:
        """One issuer at a time per county until the transaction ends, so numbers are consecutive."""
        await self.session.execute(
            text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": f"issued-documents:{county_code}"}
        )
