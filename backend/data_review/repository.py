"""Every query on the entries under review (`entry_reviews`), on the tenant-scoped base."""

from __future__ import annotations

import uuid

from backend.data_review.errors import EntryReviewNotFound
from backend.db.repository import TenantScopedRepository
from backend.models import EntryKind, EntryReview, EntryState


class EntryReviewRepository(TenantScopedRepository[EntryReview]):
    model = EntryReview
    entity_type = "entry_review"
    not_found = EntryReviewNotFound

    async def listed(
        self, roots: list[str], state: EntryState | None, *, offset: int, limit: int
    ) -> tuple[list[EntryReview], int]:
        """One page of the entries under `roots` (optionally in one state), oldest first."""
        statement = self.base().where(self.in_subtrees(roots))
        if state is not None:
            statement = statement.where(EntryReview.state == state)
        ordered = statement.order_by(EntryReview.created_at, EntryReview.id)
        return await self.page(ordered, offset=offset, limit=limit)

    async def of_person(self, person_id: uuid.UUID) -> list[EntryReview]:
        """The person's entries, newest first."""
        statement = (
            self.base()
            .where(EntryReview.person_id == person_id)
            .order_by(EntryReview.created_at.desc(), EntryReview.id)
        )
        return await self.all(statement)

    async def pending_changes(self, person_id: uuid.UUID) -> int:
        """How many changes to the person still wait for confirmation."""
        return await self.count(
            self.base().where(
                EntryReview.person_id == person_id,
                EntryReview.state == EntryState.pending,
                EntryReview.kind != EntryKind.registration,
            )
        )
