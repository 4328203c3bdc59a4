"""Every query of the documents domain. Tenant scoping lives here (the second lock after row-level security);
subtree scoping is the caller's list of roots (Principal.scopes_for)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.db.scoping import under_roots
from backend.db.tenancy import current_tenant_id
from backend.models import (
    Agreement,
    AgreementKind,
    Document,
    DocumentOwnerKind,
    IssuedDocument,
)


@dataclass(frozen=True, slots=True)
class AgreementFilters:
    """What the agreement list can be narrowed to; every filter is optional."""

    kind: AgreementKind | None = None
    org_unit_code: str | None = None  # a subtree root, inside the caller's reach
    expiring_before: date | None = None  # validity ends by this day and no renewal replaced it yet


class DocumentRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @property
    def tenant_id(self) -> uuid.UUID:
        """The county this transaction is scoped to."""
        return current_tenant_id(self.session)

    async def get(self, document_id: uuid.UUID, *, for_update: bool = False) -> Document | None:
        """One document of this county, or None."""
        statement = select(Document).where(Document.tenant_id == self.tenant_id, Document.id == document_id)
        if for_update:
            statement = statement.with_for_update()
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def for_owner(self, owner_kind: DocumentOwnerKind, owner_id: uuid.UUID, roots: list[str]) -> list[Document]:
        """An owner's documents kept by units under `roots`, newest first (destroyed ones included)."""
        statement = (
            select(Document)
            .where(
                Document.tenant_id == self.tenant_id,
                Document.owner_kind == owner_kind,
                Document.owner_id == owner_id,
                under_roots(Document.org_unit_code, roots),
            )
            .order_by(Document.created_at.desc(), Document.id)
        )
        return list((await self.session.execute(statement)).scalars().all())

    async def superseded_by(self, document_id: uuid.UUID) -> uuid.UUID | None:
        """The newer version pointing at this document, if any."""
        statement = select(Document.id).where(
            Document.tenant_id == self.tenant_id, Document.supersedes_id == document_id
        )
        return (await self.session.execute(statement.limit(1))).scalar_one_or_none()

    async def known_keys(self, keys: list[str]) -> set[str]:
        """Which of these object keys have a row (destroyed rows count: their object is gone anyway)."""
        if not keys:
            return set()
        statement = select(Document.object_key).where(
            Document.tenant_id == self.tenant_id, Document.object_key.in_(keys)
        )
        return set((await self.session.execute(statement)).scalars().all())

    async def past_retention(
        self, roots: list[str], today: date, *, offset: int, limit: int
    ) -> tuple[list[Document], int]:
        """Documents kept under `roots` past their retention day and not destroyed yet, oldest first."""
        condition = (
            (Document.tenant_id == self.tenant_id)
            & (Document.retain_until < today)
            & Document.destroyed_at.is_(None)
            & under_roots(Document.org_unit_code, roots)
        )
        total = (await self.session.execute(select(func.count()).where(condition))).scalar_one()
        statement = (
            select(Document).where(condition).order_by(Document.retain_until, Document.id).offset(offset).limit(limit)
        )
        return list((await self.session.execute(statement)).scalars().all()), total

    async def agreement(self, agreement_id: uuid.UUID, *, for_update: bool = False) -> Agreement | None:
        """One agreement of this county, or None."""
        statement = select(Agreement).where(Agreement.tenant_id == self.tenant_id, Agreement.id == agreement_id)
        if for_update:
            statement = statement.with_for_update()
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def list_agreements(
        self, roots: list[str], filters: AgreementFilters, today: date, *, offset: int, limit: int
    ) -> tuple[list[Agreement], int]:
        """Agreements kept by units under `roots`, narrowed by `filters`; those ending soonest first, then the
        open-ended ones, newest first. "Expiring" counts agreements still in force (not ended before `today`)
        whose validity ends by `filters.expiring_before` and that no renewal replaced yet."""
        condition = (Agreement.tenant_id == self.tenant_id) & under_roots(Agreement.org_unit_code, roots)
        if filters.kind is not None:
            condition &= Agreement.kind == filters.kind
        if filters.org_unit_code is not None:
            condition &= under_roots(Agreement.org_unit_code, [filters.org_unit_code])
        if filters.expiring_before is not None:
            renewed = select(Agreement.renews_id).where(
                Agreement.tenant_id == self.tenant_id, Agreement.renews_id.is_not(None)
            )
            condition &= Agreement.valid_until.between(today, filters.expiring_before) & Agreement.id.not_in(renewed)
        total = (await self.session.execute(select(func.count()).select_from(Agreement).where(condition))).scalar_one()
        statement = (
            select(Agreement)
            .where(condition)
            .order_by(Agreement.valid_until.asc().nulls_last(), Agreement.created_at.desc(), Agreement.id)
            .offset(offset)
            .limit(limit)
        )
        return list((await self.session.execute(statement)).scalars().all()), total

    async def renewals_of(self, agreement_id: uuid.UUID) -> list[Agreement]:
        """The agreements that renew this one (normally at most one), oldest first."""
        statement = select(Agreement).where(Agreement.tenant_id == self.tenant_id, Agreement.renews_id == agreement_id)
        return list((await self.session.execute(statement.order_by(Agreement.created_at))).scalars().all())

    async def agreements_expiring(self, first: date, last: date) -> list[Agreement]:
        """Signed agreements of this county whose validity ends between `first` and `last` and that no renewal
        replaced yet."""
        renewed = select(Agreement.renews_id).where(
            Agreement.tenant_id == self.tenant_id, Agreement.renews_id.is_not(None)
        )
        statement = select(Agreement).where(
            Agreement.tenant_id == self.tenant_id,
            Agreement.valid_until.between(first, last),
            Agreement.id.not_in(renewed),
        )
        return list((await self.session.execute(statement.order_by(Agreement.valid_until))).scalars().all())

    async def issued_for_case(self, case_id: uuid.UUID) -> list[IssuedDocument]:
        """The case's issued-documents register, oldest first."""
        statement = (
            select(IssuedDocument)
            .where(IssuedDocument.tenant_id == self.tenant_id, IssuedDocument.case_id == case_id)
            .order_by(IssuedDocument.issue_date, IssuedDocument.number)
        )
        return list((await self.session.execute(statement)).scalars().all())

    async def issued(self, issued_id: uuid.UUID) -> IssuedDocument | None:
        statement = select(IssuedDocument).where(
            IssuedDocument.tenant_id == self.tenant_id, IssuedDocument.id == issued_id
        )
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def issued_by_token(self, token: str) -> IssuedDocument | None:
        statement = select(IssuedDocument).where(
            IssuedDocument.tenant_id == self.tenant_id, IssuedDocument.verify_token == token
        )
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def count_issued(self, year: int) -> int:
        """How many documents this county issued in `year` (numbers are per county and year)."""
        statement = select(func.count()).where(
            IssuedDocument.tenant_id == self.tenant_id, func.extract("year", IssuedDocument.issue_date) == year
        )
        return int((await self.session.execute(statement)).scalar_one())

    def add(self, row: Document | Agreement | IssuedDocument) -> None:
        """Stage a new row; the caller flushes."""
        self.session.add(row)
