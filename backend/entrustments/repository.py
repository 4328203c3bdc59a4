"""Every query on entrustments. Rows are placed at the receiving township (`to_unit_code`): the receiver's reach
decides who may accept or return one."""

from __future__ import annotations

import uuid

from backend.db.repository import TenantScopedRepository
from backend.entrustments.errors import EntrustmentNotFound
from backend.models import CaseEntrustment, EntrustmentState


class EntrustmentRepository(TenantScopedRepository[CaseEntrustment]):
    model = CaseEntrustment
    unit_column = "to_unit_code"
    entity_type = "entrustment"
    not_found = EntrustmentNotFound

    async def pending_for_case(self, case_id: uuid.UUID) -> CaseEntrustment | None:
        """The case's hand-over waiting for the receiver, if any."""
        statement = self.base().where(
            CaseEntrustment.case_id == case_id, CaseEntrustment.state == EntrustmentState.pending.value
        )
        return await self.one_or_none(statement)

    async def for_case(self, case_id: uuid.UUID) -> list[CaseEntrustment]:
        """Every hand-over of the case, newest first."""
        statement = self.base().where(CaseEntrustment.case_id == case_id)
        return await self.all(statement.order_by(CaseEntrustment.created_at.desc()))

    async def incoming(
        self, roots: list[str], *, pending_only: bool, offset: int, limit: int
    ) -> tuple[list[CaseEntrustment], int]:
        """One page of the hand-overs to the townships under `roots`, pending first, oldest first."""
        statement = self.base().where(self.in_subtrees(roots))
        if pending_only:
            statement = statement.where(CaseEntrustment.state == EntrustmentState.pending.value)
        pending_first = (CaseEntrustment.state != EntrustmentState.pending.value).asc()
        ordered = statement.order_by(pending_first, CaseEntrustment.created_at, CaseEntrustment.case_number)
        return await self.page(ordered, offset=offset, limit=limit)
