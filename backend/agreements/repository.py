"""Every query on agreements, built on the tenant-scoped base; lists filter in SQL on the caller's subtrees."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from backend.agreements.errors import AgreementNotFound
from backend.db.repository import TenantScopedRepository
from backend.models import Agreement, AgreementKind


@dataclass(frozen=True, slots=True)
class AgreementFilters:
    """What the agreement list can be narrowed to; every filter is optional."""

    kind: AgreementKind | None = None
    org_unit_code: str | None = None  # a subtree root, inside the caller's reach
    expiring_before: date | None = None  # validity ends by this day and no renewal replaced it yet


class AgreementRepository(TenantScopedRepository[Agreement]):
    model = Agreement
    entity_type = "agreement"
    not_found = AgreementNotFound

    async def search(
        self, roots: list[str], filters: AgreementFilters, today: date, *, offset: int, limit: int
    ) -> tuple[list[Agreement], int]:
        """Agreements kept by units under `roots`, narrowed by `filters`; those ending soonest first, then the
        open-ended ones, newest first. "Expiring" counts agreements still in force (not ended before `today`)
        whose validity ends by `filters.expiring_before` and that no renewal replaced yet."""
        statement = self.base().where(self.in_subtrees(roots))
        if filters.kind is not None:
            statement = statement.where(Agreement.kind == filters.kind)
        if filters.org_unit_code is not None:
            statement = statement.where(self.in_subtrees([filters.org_unit_code]))
        if filters.expiring_before is not None:
            renewed = select(Agreement.renews_id).where(self.in_county(), Agreement.renews_id.is_not(None))
            statement = statement.where(
                Agreement.valid_until.between(today, filters.expiring_before), Agreement.id.not_in(renewed)
            )
        ordered = statement.order_by(
            Agreement.valid_until.asc().nulls_last(), Agreement.created_at.desc(), Agreement.id
        )
        return await self.page(ordered, offset=offset, limit=limit)

    async def renewals_of(self, agreement_id: uuid.UUID) -> list[Agreement]:
        """The agreements that renew this one (normally at most one), oldest first."""
        return await self.all(self.base().where(Agreement.renews_id == agreement_id).order_by(Agreement.created_at))
