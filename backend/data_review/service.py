"""The township's confirmation of village entries (三级把关, seeds-spec P25): list, read, confirm, reject.

- Entries are listed to whoever reads persons in their subtree: the coordinator sees hers and why one was sent
  back; the township sees what waits for it.
- Confirming needs entry.confirm on the entry's unit (an officer or supervisor of the village's township, or the
  county); out of reach answers 404, a reader who may not confirm gets 403. A registration then counts (and the
  registration county of an inflow person is told, 流入登记通报); a held change is applied through the registry's
  own rules (backend/persons/service.py), so a change that no longer fits the record is refused with its fields.
- Rejecting needs a reason; a registration sent back does not count until it is corrected (which sends it back to
  the township); a change sent back is dropped.
- Each decision is made once (409 after), on the version read, and audited (`entry_review.confirm` / `.reject`).
Flushes, never commits.
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from backend.audit import service as audit
from backend.authz.principal import Principal
from backend.authz.vocabulary import Action
from backend.core.clock import utc_now
from backend.core.errors import StaleVersion
from backend.data_review.errors import EntryDecided, EntryReviewNotFound
from backend.data_review.pending import ENTITY_TYPE, mark, unseal
from backend.data_review.repository import EntryReviewRepository
from backend.data_review.schemas import EntryConfirm, EntryReject, EntryReviewRead
from backend.models import EntryKind, EntryReview, EntryState, Person, ReviewState
from backend.persons import service as persons
from backend.persons.repository import PersonRepository
from backend.persons.schemas import PersonCreate, PersonUpdate


def entry_read(review: EntryReview, person: Person) -> EntryReviewRead:
    """The response body of an entry."""
    return EntryReviewRead(
        id=review.id,
        person_id=review.person_id,
        person_name=person.name,
        org_unit_code=review.org_unit_code,
        kind=review.kind,
        state=review.state,
        changes=review.changes,
        entered_by=review.entered_by,
        entered_by_label=review.entered_by_label,
        created_at=review.created_at,
        decided_by_label=review.decided_by_label,
        decided_at=review.decided_at,
        reason=review.reason,
        version=review.version,
    )


async def _bodies(session: AsyncSession, reviews: list[EntryReview]) -> list[EntryReviewRead]:
    people = {person.id: person for person in await PersonRepository(session).get_many(r.person_id for r in reviews)}
    return [entry_read(review, people[review.person_id]) for review in reviews]


async def list_entries(
    session: AsyncSession, principal: Principal, state: EntryState | None, *, offset: int, limit: int
) -> tuple[list[EntryReviewRead], int]:
    """One page of the entries in the subtrees where the principal reads persons, oldest first."""
    reviews, total = await EntryReviewRepository(session).listed(
        principal.scopes_for(Action.person_read), state, offset=offset, limit=limit
    )
    return await _bodies(session, reviews), total


async def entries_of_person(session: AsyncSession, person: Person) -> list[EntryReviewRead]:
    """The entries of one record the caller may read, newest first (the person page shows them)."""
    reviews = await EntryReviewRepository(session).of_person(person.id)
    return [entry_read(review, person) for review in reviews]


async def get_entry(session: AsyncSession, principal: Principal, review_id: uuid.UUID) -> EntryReviewRead:
    """One entry in the caller's reach (404 otherwise)."""
    review = await EntryReviewRepository(session).get_in_reach(principal, Action.person_read, review_id)
    return (await _bodies(session, [review]))[0]


async def _decidable(session: AsyncSession, principal: Principal, review_id: uuid.UUID, version: int) -> EntryReview:
    review = await EntryReviewRepository(session).get_in_reach(
        principal, Action.entry_confirm, review_id, for_update=True, visible_with=Action.person_read
    )
    if review.state != EntryState.pending:
        raise EntryDecided(review.state.value)
    if review.version != version:
        raise StaleVersion(current={"version": review.version, "state": review.state.value})
    return review


async def _person_of(session: AsyncSession, review: EntryReview) -> Person:
    person = await PersonRepository(session).get(review.person_id, for_update=True)
    if person is None:  # the foreign key keeps it; RLS would hide nothing of this county
        raise EntryReviewNotFound()
    return person


async def _settle(session: AsyncSession, principal: Principal, review: EntryReview, state: EntryState) -> None:
    review.state = state
    review.decided_by = principal.subject
    review.decided_by_label = principal.label[:100]
    review.decided_at = utc_now()
    await session.flush()


async def _after_change(session: AsyncSession, person: Person) -> None:
    """A counted record keeps `changes_pending` while another change still waits."""
    if person.review_state == ReviewState.changes_pending:
        waiting = await EntryReviewRepository(session).pending_changes(person.id)
        mark(person, ReviewState.changes_pending if waiting else None)


async def confirm_entry(
    session: AsyncSession, principal: Principal, review_id: uuid.UUID, body: EntryConfirm
) -> EntryReviewRead:
    """Confirm an entry: a registration counts from now on; a held change is applied as the registry applies any
    change (its own checks and audit event)."""
    review = await _decidable(session, principal, review_id, body.version)
    person = await _person_of(session, review)
    await _settle(session, principal, review, EntryState.confirmed)
    if review.kind == EntryKind.registration:
        mark(person, None)
        await persons.announce_arrivals(session, principal, [person])
    elif review.sealed_change is not None:
        given = unseal(review.sealed_change)
        if review.kind == EntryKind.re_registration:
            await persons.register_person(session, principal, PersonCreate.model_validate(given))
        else:
            await persons.update_person(
                session, principal, person, PersonUpdate.model_validate({**given, "version": person.version})
            )
        await _after_change(session, person)
    await session.flush()
    await audit.record_about(
        session,
        ENTITY_TYPE,
        review,
        "entry_review.confirm",
        {"state": [EntryState.pending.value, EntryState.confirmed.value], "entered_by": [None, review.entered_by]},
    )
    return entry_read(review, person)


async def reject_entry(
    session: AsyncSession, principal: Principal, review_id: uuid.UUID, body: EntryReject
) -> EntryReviewRead:
    """Send an entry back with a reason: a registration stays out of the registers until corrected; a change is
    dropped."""
    review = await _decidable(session, principal, review_id, body.version)
    person = await _person_of(session, review)
    review.reason = body.reason
    await _settle(session, principal, review, EntryState.rejected)
    if review.kind == EntryKind.registration:
        mark(person, ReviewState.rejected)
    else:
        await _after_change(session, person)
    await session.flush()
    await audit.record_about(
        session,
        ENTITY_TYPE,
        review,
        "entry_review.reject",
        {"state": [EntryState.pending.value, EntryState.rejected.value]},
        reason=body.reason,
    )
    return entry_read(review, person)
