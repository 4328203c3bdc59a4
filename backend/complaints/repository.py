"""Every query of the complaints domain: complaints with their case, the register."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, func, select

from backend.complaints.errors import ComplaintNotFound
from backend.db.repository import TenantScopedRepository
from backend.models import Case, Complaint, ComplaintKind


@dataclass(frozen=True, slots=True)
class ComplaintFilters:
    roots: list[str]
    kind: ComplaintKind | None = None
    flagged: bool | None = None
    received_from: datetime | None = None
    received_before: datetime | None = None


class ComplaintRepository(TenantScopedRepository[Complaint]):
    model = Complaint
    entity_type = "complaint"
    not_found = ComplaintNotFound

    def _with_case(self) -> Select[Complaint, Case]:
        return (
            select(Complaint, Case)
            .join(Case, and_(Case.id == Complaint.case_id, self.in_county(Case)))
            .where(self.in_county())
        )

    async def with_case(self, complaint_id: uuid.UUID) -> tuple[Complaint, Case]:
        """The complaint and its case."""
        statement = self._with_case().where(Complaint.id == complaint_id)
        row = (await self.session.execute(statement)).first()
        if row is None:
            raise ComplaintNotFound()
        return row[0], row[1]

    async def register(
        self, filters: ComplaintFilters, *, offset: int, limit: int
    ) -> tuple[list[tuple[Complaint, Case]], int]:
        """One page of the complaint register (投诉举报登记) in the caller's reach, newest first."""
        statement: Select[*tuple[Any, ...]] = self._with_case().where(self.in_subtrees(filters.roots))
        if filters.kind is not None:
            statement = statement.where(Complaint.kind == filters.kind)
        if filters.flagged is not None:
            has = func.jsonb_array_length(Complaint.practices) > 0
            statement = statement.where(has if filters.flagged else ~has)
        if filters.received_from is not None:
            statement = statement.where(Complaint.received_at >= filters.received_from)
        if filters.received_before is not None:
            statement = statement.where(Complaint.received_at < filters.received_before)
        total = await self.count(statement)
        ordered = statement.order_by(Complaint.received_at.desc(), Case.number)
        rows = (await self.session.execute(ordered.offset(offset).limit(limit))).all()
        return [(row[0], row[1]) for row in rows], total
