"""Holding village entries for the township's confirmation (三级把关: 「最后交到乡流管办审查」, P25).

The registry (backend/persons/service.py) asks `needs_confirmation` before it writes. When the county requires it
(`village_entries_need_confirmation`) and the one entering cannot confirm entries on the unit herself (a village
coordinator), a new registration is written marked pending (`persons.review_state`; it does not count in the
registers and reports, `backend/models/person.py` `counted_person`), and a change is not applied but held here,
sealed, until the township confirms it (backend/data_review/service.py). Every hold is audited.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic_core import to_jsonable_python
from sqlalchemy.ext.asyncio import AsyncSession

from backend.audit import service as audit
from backend.authz.principal import Principal
from backend.authz.vocabulary import Action
from backend.core.clock import utc_now
from backend.core.crypto import personal_data_cipher
from backend.county_settings.service import county_settings
from backend.data_review.repository import EntryReviewRepository
from backend.models import EntryKind, EntryReview, EntryState, Person, ReviewState
from backend.persons.records import diff
from backend.persons.schemas import PersonCreate

ENTITY_TYPE = EntryReviewRepository.entity_type
_SEAL_CONTEXT = "entry_review.change"


async def needs_confirmation(session: AsyncSession, principal: Principal, unit_code: str) -> bool:
    """Whether an entry by `principal` on `unit_code` waits for the township: the county requires it and she may not
    confirm entries there herself."""
    if principal.can(Action.entry_confirm, unit_code):
        return False
    return (await county_settings(session)).village_entries_need_confirmation


def seal(given: dict[str, Any]) -> bytes:
    """The change as entered (JSON), encrypted: it may carry ID and phone numbers."""
    return personal_data_cipher().encrypt(json.dumps(given, ensure_ascii=False), context=_SEAL_CONTEXT)


def unseal(sealed: bytes) -> dict[str, Any]:
    """The change as entered."""
    given: dict[str, Any] = json.loads(personal_data_cipher().decrypt(sealed, context=_SEAL_CONTEXT))
    return given


def mark(person: Person, state: ReviewState | None) -> None:
    """Set the record's review state (the row's version moves on, as for any change of it)."""
    if person.review_state != state:
        person.review_state = state
        person.updated_at = utc_now()  # set here, not by the database, so the row needs no reload to be read


async def _held(
    session: AsyncSession,
    principal: Principal,
    person: Person,
    kind: EntryKind,
    changes: dict[str, Any],
    sealed: bytes | None,
) -> EntryReview:
    repository = EntryReviewRepository(session)
    review = EntryReview(
        tenant_id=repository.tenant_id,
        created_at=utc_now(),
        person_id=person.id,
        org_unit_code=person.org_unit_code,
        kind=kind,
        state=EntryState.pending,
        changes=changes,
        sealed_change=sealed,
        entered_by=principal.subject,
        entered_by_label=principal.label[:100],
    )
    repository.add(review)
    await repository.flush()
    await audit.record_about(session, ENTITY_TYPE, review, "entry_review.submit", {"kind": [None, kind.value]})
    return review


async def hold_registration(
    session: AsyncSession, principal: Principal, person: Person, changes: dict[str, Any]
) -> EntryReview:
    """Mark a person just registered (or sent back and entered again) as waiting for confirmation; `changes` is what
    was entered, identifiers redacted."""
    mark(person, ReviewState.pending)
    return await _held(session, principal, person, EntryKind.registration, changes, None)


async def hold_change(
    session: AsyncSession,
    principal: Principal,
    person: Person,
    kind: EntryKind,
    given: dict[str, Any],
    changes: dict[str, Any],
) -> EntryReview:
    """Hold a change to a counted record (`given` as entered, JSON-ready) until the township confirms it; the record
    keeps counting as it stands."""
    mark(person, ReviewState.changes_pending)
    return await _held(session, principal, person, kind, changes, seal(given))


class ImportHold:
    """The review of one spreadsheet import (backend/persons/importer.py): whether entries on a unit wait for the
    township is asked once per unit, and a row that changes a counted record is held like a re-registration."""

    def __init__(self, session: AsyncSession, principal: Principal) -> None:
        self.session, self.principal = session, principal
        self._waits: dict[str, bool] = {}

    async def waits(self, unit_code: str) -> bool:
        """Whether what this import enters on `unit_code` waits for the township."""
        if unit_code not in self._waits:
            self._waits[unit_code] = await needs_confirmation(self.session, self.principal, unit_code)
        return self._waits[unit_code]

    async def hold_row(self, person: Person, clean: dict[str, Any], changes: dict[str, Any]) -> None:
        """Hold an imported row's values for an existing record as a re-registration (applied once confirmed)."""
        entered = {name: clean[name] for name in PersonCreate.model_fields if clean.get(name) is not None}
        await hold_change(
            self.session, self.principal, person, EntryKind.re_registration, to_jsonable_python(entered), changes
        )

    async def hold_new(self, persons: list[Person]) -> list[Person]:
        """Mark the records an import created on units whose entries wait; the ones that count now are returned."""
        counted = []
        for person in persons:
            if await self.waits(person.org_unit_code):
                await hold_registration(self.session, self.principal, person, diff(None, person))
            else:
                counted.append(person)
        return counted
