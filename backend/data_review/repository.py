"""Every query of the data review, on the tenant-scoped base: the entries under review (`entry_reviews`) and the
monthly re-check lists (`recheck_lists`, `recheck_items`)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import date, datetime

from sqlalchemy import String, cast, select

from backend.data_review.errors import EntryReviewNotFound, RecheckNotFound
from backend.db.repository import TenantScopedRepository
from backend.models import (
    AuditEvent,
    EntryKind,
    EntryReview,
    EntryState,
    Person,
    PersonStatus,
    RecheckItem,
    RecheckList,
    counted_person,
)


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


# What counts as a change of a registry entry for the re-check: registering, changing, correcting, departing.
ENTRY_CHANGES = ("person.create", "person.update", "person.correct", "person.depart")


class RecheckRepository(TenantScopedRepository[RecheckList]):
    model = RecheckList
    entity_type = "recheck_list"
    not_found = RecheckNotFound

    async def of_month(self, village: str, month: date) -> RecheckList | None:
        """The village's list of the month, if drawn."""
        return await self.one_or_none(
            self.base().where(RecheckList.org_unit_code == village, RecheckList.month == month)
        )

    async def listed(
        self, roots: list[str], month: date | None, *, offset: int, limit: int
    ) -> tuple[list[RecheckList], int]:
        """One page of the lists under `roots` (optionally of one month), newest month first, by village."""
        statement = self.base().where(self.in_subtrees(roots))
        if month is not None:
            statement = statement.where(RecheckList.month == month)
        ordered = statement.order_by(RecheckList.month.desc(), RecheckList.org_unit_code, RecheckList.id)
        return await self.page(ordered, offset=offset, limit=limit)

    async def changed_entries(self, village: str, begins_at: datetime, ends_before: datetime) -> list[str]:
        """The ids (as text, in order) of the village's counted, unmerged registry entries whose record was
        registered, changed, corrected or departed in [begins_at, ends_before), by the audit log."""
        changed = select(AuditEvent.entity_id).where(
            self.in_county(AuditEvent),
            AuditEvent.entity_type == "person",
            AuditEvent.org_unit_code == village,
            AuditEvent.action.in_(ENTRY_CHANGES),
            AuditEvent.occurred_at >= begins_at,
            AuditEvent.occurred_at < ends_before,
        )
        person_id = cast(Person.id, String)
        statement = (
            select(person_id)
            .where(
                self.in_county(Person),
                Person.org_unit_code == village,
                Person.status != PersonStatus.merged,
                counted_person(),
                person_id.in_(changed),
            )
            .order_by(person_id)
        )
        return list((await self.session.scalars(statement)).all())

    async def items_of(self, list_ids: Iterable[uuid.UUID]) -> list[tuple[RecheckItem, str]]:
        """The items of these lists with the person's name, in list and name order."""
        statement = (
            select(RecheckItem, Person.name)
            .join(Person, Person.id == RecheckItem.person_id)
            .where(self.in_county(RecheckItem), self.in_county(Person), RecheckItem.list_id.in_(list(list_ids)))
            .order_by(RecheckItem.list_id, Person.name_pinyin, RecheckItem.id)
        )
        return [(item, name) for item, name in (await self.session.execute(statement)).all()]

    async def item(self, list_id: uuid.UUID, item_id: uuid.UUID) -> RecheckItem | None:
        """One item of a list, locked to record its finding."""
        statement = (
            self.county_rows(RecheckItem)
            .where(RecheckItem.id == item_id, RecheckItem.list_id == list_id)
            .with_for_update()
        )
        return await self.one_or_none(statement)
