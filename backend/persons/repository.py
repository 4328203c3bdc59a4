"""Every query on the person registry, on the tenant-scoped base (backend/db/repository.py): each one filters on
the transaction's county as well as relying on row-level security (two locks); list queries also filter on the
caller's org subtrees in SQL."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select

from backend.db.repository import TenantScopedRepository
from backend.db.search import begins_with, contains
from backend.models import FlowDirection, Person, PersonChild, PersonStatus, Sex
from backend.persons.errors import PersonNotFound
from backend.persons.identifiers import resident_id_digest
from backend.persons.resident_id import normalise_resident_id

# Hash lists are sent in chunks, so a 20,000-row import does not build one enormous IN list.
_IN_CHUNK = 1000


@dataclass(frozen=True, slots=True)
class PersonFilters:
    """The registry list's filters that apply as they are given, and its order."""

    org_unit: str | None = None
    flow_direction: FlowDirection | None = None
    status: PersonStatus | None = None
    key_subject: bool | None = None
    sex: Sex | None = None
    sort: str = "name"


@dataclass(frozen=True, slots=True)
class PersonSearch(PersonFilters):
    """Filters of the registry list. `name_text` matches the name as typed (ILIKE), `name_pinyin` the pinyin
    key of the query, `initials` the first letters of the syllables; any of them may match."""

    name_text: str | None = None
    name_pinyin: str | None = None
    initials: str | None = None
    resident_id_hash: str | None = None
    phone_hash: str | None = None


class PersonRepository(TenantScopedRepository[Person]):
    model = Person
    entity_type = "person"
    not_found = PersonNotFound

    async def get_many(self, person_ids: Iterable[uuid.UUID]) -> list[Person]:
        """The persons of the current county with these ids (in no particular order)."""
        return await self.all(self.base().where(Person.id.in_(list(person_ids))))

    async def by_resident_id_hash(self, digest: str, *, exclude: uuid.UUID | None = None) -> Person | None:
        """The unmerged record holding this ID number's lookup digest (at most one: a unique index)."""
        statement = self.base().where(Person.resident_id_hash == digest, Person.status != PersonStatus.merged)
        if exclude is not None:
            statement = statement.where(Person.id != exclude)
        return await self.first(statement)

    async def by_reference(
        self, person_id: uuid.UUID | None, resident_id: str | None
    ) -> tuple[Person | None, str | None]:
        """The person a form names, by her id or else her ID number as typed, and the field that named her (None
        when the form names nobody). Reach and status are the caller's rules."""
        if person_id is not None:
            return await self.get(person_id), "person_id"
        if resident_id is not None:
            number = normalise_resident_id(resident_id)
            return (await self.by_resident_id_hash(resident_id_digest(number)) if number else None), "resident_id"
        return None, None

    async def by_resident_id_hashes(self, digests: Iterable[str]) -> dict[str, Person]:
        """Unmerged records by ID-number digest, for bulk import."""
        wanted = sorted(set(digests))
        found: dict[str, Person] = {}
        for start in range(0, len(wanted), _IN_CHUNK):
            statement = self.base().where(
                Person.resident_id_hash.in_(wanted[start : start + _IN_CHUNK]), Person.status != PersonStatus.merged
            )
            for person in await self.all(statement):
                if person.resident_id_hash is not None:
                    found[person.resident_id_hash] = person
        return found

    async def children_of(self, person_id: uuid.UUID) -> list[PersonChild]:
        """The person's children in birth order."""
        statement = (
            self.county_rows(PersonChild).where(PersonChild.person_id == person_id).order_by(PersonChild.birth_order)
        )
        return await self.all(statement)

    async def children_of_many(self, person_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, list[PersonChild]]:
        """Children of several persons, keyed by person, each list in birth order."""
        ids = list(set(person_ids))
        found: dict[uuid.UUID, list[PersonChild]] = {person_id: [] for person_id in ids}
        for start in range(0, len(ids), _IN_CHUNK):
            statement = (
                self.county_rows(PersonChild)
                .where(PersonChild.person_id.in_(ids[start : start + _IN_CHUNK]))
                .order_by(PersonChild.person_id, PersonChild.birth_order)
            )
            for child in await self.all(statement):
                found[child.person_id].append(child)
        return found

    async def delete_child(self, child: PersonChild) -> None:
        """Remove a child row (children are edited as a list on their parent; persons are never deleted)."""
        await self.session.delete(child)

    def _search_conditions(self, search: PersonSearch, roots: list[str]) -> list[ColumnElement[bool]]:
        conditions: list[ColumnElement[bool]] = [self.in_county(), self.in_subtrees(roots)]
        if search.org_unit:
            conditions.append(self.in_subtree(search.org_unit))
        if search.status is not None:
            conditions.append(Person.status == search.status)
        else:
            # Merged records are duplicates folded into another; they are listed only when asked for.
            conditions.append(Person.status != PersonStatus.merged)
        if search.flow_direction is not None:
            conditions.append(Person.flow_direction == search.flow_direction)
        if search.key_subject is not None:
            conditions.append(Person.key_subject.is_(search.key_subject))
        if search.sex is not None:
            conditions.append(Person.sex == search.sex)
        if search.resident_id_hash is not None:
            conditions.append(Person.resident_id_hash == search.resident_id_hash)
        if search.phone_hash is not None:
            conditions.append(Person.phone_hash == search.phone_hash)
        name_matches: list[ColumnElement[bool]] = []
        # ILIKE/LIKE with %...% are what the pg_trgm GIN indexes on name and name_pinyin serve.
        if search.name_text:
            name_matches.append(contains(Person.name, search.name_text, ignore_case=True))
        if search.name_pinyin:
            name_matches.append(contains(Person.name_pinyin, search.name_pinyin))
        if search.initials:
            name_matches.append(begins_with(Person.name_initials, search.initials))
        if name_matches:
            conditions.append(or_(*name_matches))
        return conditions

    async def search(
        self, search: PersonSearch, roots: list[str], *, offset: int, limit: int
    ) -> tuple[list[Person], int]:
        """One page of the registry under `roots` ('' = the whole county) and the total count."""
        conditions = self._search_conditions(search, roots)
        total = (await self.session.execute(select(func.count()).select_from(Person).where(*conditions))).scalar_one()
        order: list[Any]
        if search.sort in ("name", "-name"):
            # Chinese registers sort names by pinyin (拼音排序), then by the characters.
            keys = [Person.name_pinyin, Person.name]
            order = [key.desc() for key in keys] if search.sort == "-name" else keys
        else:
            order = [Person.created_at.desc() if search.sort == "-registered" else Person.created_at]
        statement = select(Person).where(*conditions).order_by(*order, Person.id).offset(offset).limit(limit)
        return await self.all(statement), int(total)

    async def same_sex_and_birth_date(self, person: Person, roots: list[str], *, limit: int = 200) -> list[Person]:
        """Unmerged persons of the county, under `roots`, with the person's sex and birth date, other than the
        person; the name comparison (characters or pinyin) is done by the caller."""
        if person.birth_date is None:
            return []
        statement = (
            self.base()
            .where(
                Person.id != person.id,
                Person.sex == person.sex,
                Person.birth_date == person.birth_date,
                Person.status != PersonStatus.merged,
                self.in_subtrees(roots),
            )
            .order_by(Person.created_at, Person.id)
            .limit(limit)
        )
        if person.resident_id_hash is not None:
            # Two records that both carry (different) ID numbers are two people; only ID-less ones are candidates.
            statement = statement.where(Person.resident_id_hash.is_(None))
        return await self.all(statement)

    async def readable_person(self, person_id: uuid.UUID, roots: list[str]) -> Person | None:
        """The person if it lies under `roots`, for links such as a spouse."""
        statement = self.base().where(
            and_(Person.id == person_id, Person.status != PersonStatus.merged, self.in_subtrees(roots))
        )
        return await self.one_or_none(statement)
