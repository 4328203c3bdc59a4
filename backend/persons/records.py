"""The person row (流动人口登记记录) written from validated values: created or updated, each time with its audit
event, whose diff redacts the identifiers. The audit log is the person's history.

`backend/persons/validation.py` turns input into validated values ("clean"); this module writes them. The
registration service, the spreadsheet import and the filing of flow notices all write through here.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from backend.audit import service as audit
from backend.core.clock import utc_now
from backend.models import FlowDirection, Person, PersonChild, PersonStatus
from backend.persons.errors import ResidentIdTaken
from backend.persons.identifiers import REDACTED_FIELDS, digest, resident_id_digest, set_identifiers
from backend.persons.repository import PersonRepository
from backend.persons.validation import RESIDENT_IN_COUNTY

ENTITY_TYPE = "person"

# Columns copied between a validated input and the row as they are (identifiers and children are special).
PLAIN_COLUMNS = (
    "name",
    "sex",
    "ethnicity",
    "birth_date",
    "org_unit_code",
    "flow_direction",
    "flow_date",
    "registration_division_code",
    "registration_address",
    "residence_division_code",
    "residence_address",
    "flow_origin_destination",
    "landlord_or_employer",
    "marital_status",
    "spouse_id",
    "contraception_measure",
    "contraception_date",
    "key_subject",
    "notes",
)


def snapshot(person: Person, children: list[PersonChild] | None = None) -> dict[str, Any]:
    """The person's values as the audit log and change detection see them. Identifiers appear as their lookup
    digests (never plaintext); the audit diff redacts them anyway."""
    values: dict[str, Any] = {name: getattr(person, name) for name in PLAIN_COLUMNS}
    values["resident_id"] = person.resident_id_hash
    values["phone"] = person.phone_hash
    values["status"] = person.status
    if children is not None:
        values["children"] = [_child_values(child) for child in children]
    return values


def diff(before: dict[str, Any] | None, person: Person, **extra: list[Any]) -> dict[str, Any]:
    """The audit diff from `before` to the person as it is now (identifiers redacted), with `extra` entries."""
    return {**audit.diff(before, snapshot(person), redact=REDACTED_FIELDS), **extra}


def _child_values(child: PersonChild) -> dict[str, Any]:
    return {"birth_order": child.birth_order, "birth_date": child.birth_date, "sex": child.sex, "name": child.name}


def desired_values(before: Mapping[str, Any], clean: Mapping[str, Any]) -> dict[str, Any]:
    """`before` with the validated input laid over it, identifiers turned into their digests."""
    after = dict(before)
    for name in PLAIN_COLUMNS:
        if name in clean:
            after[name] = clean[name]
    for name in REDACTED_FIELDS:
        if name in clean:
            after[name] = digest(name, clean[name])
    if "children" in clean and "children" in before:
        after["children"] = clean["children"]
    return after


def apply_changes(person: Person, clean: Mapping[str, Any], changes: Mapping[str, Any]) -> None:
    """Write the changed fields (names in `changes`) from `clean` onto the row, encrypting identifiers."""
    for name in PLAIN_COLUMNS:
        if name in changes:
            setattr(person, name, clean[name])
    if "name" in changes:
        person.name_pinyin = clean["name_pinyin"]
        person.name_initials = clean["name_initials"]
    set_identifiers(person, {name: clean[name] for name in REDACTED_FIELDS if name in changes})
    # Any change bumps the optimistic-lock version, also when only the children changed.
    person.updated_at = utc_now()


async def replace_children(
    session: AsyncSession, person: Person, current: list[PersonChild], wanted: list[dict[str, Any]]
) -> None:
    """Make the person's children exactly `wanted`, row by row per birth order (the list is replaced whole)."""
    repository = PersonRepository(session)
    by_order = {child.birth_order: child for child in current}
    for values in wanted:
        row = by_order.pop(values["birth_order"], None)
        if row is None:
            repository.add(PersonChild(id=uuid.uuid4(), tenant_id=person.tenant_id, person_id=person.id, **values))
        else:
            row.birth_date, row.sex, row.name = values["birth_date"], values["sex"], values["name"]
    for leftover in by_order.values():
        await repository.delete_child(leftover)


def new_person(tenant_id: uuid.UUID, clean: Mapping[str, Any]) -> Person:
    """A new (not yet added) row from validated values; the caller has filled in the defaults."""
    person = Person(
        id=uuid.uuid4(),
        tenant_id=tenant_id,
        name_pinyin=clean["name_pinyin"],
        name_initials=clean["name_initials"],
        status=PersonStatus.active,
        **{name: clean.get(name) for name in PLAIN_COLUMNS},
    )
    set_identifiers(person, clean)
    return person


def creation_defaults(clean: dict[str, Any]) -> dict[str, Any]:
    """Fill what a new record needs but the input left out: the residence of an inflow or within-county person
    and the registration place of an outflow person default to the managing unit."""
    clean.setdefault("ethnicity", "汉族")
    clean.setdefault("key_subject", False)
    clean.setdefault("children", [])
    clean.setdefault("resident_id", None)
    clean.setdefault("phone", None)
    if clean.get("flow_direction") in RESIDENT_IN_COUNTY and clean.get("residence_division_code") is None:
        clean["residence_division_code"] = clean.get("org_unit_code")
    if clean.get("flow_direction") == FlowDirection.outflow and clean.get("registration_division_code") is None:
        clean["registration_division_code"] = clean.get("org_unit_code")
    return clean


async def flush_guarding_resident_id(session: AsyncSession) -> None:
    """Flush; a concurrent registration of the same ID number (the unique index) becomes a 409."""
    await PersonRepository(session).flush_unique("uq_persons_resident_id_hash", ResidentIdTaken)


async def create_from_clean(
    session: AsyncSession, clean: Mapping[str, Any], *, reason: str | None = None, correlation_id: str | None = None
) -> Person:
    """Insert a new record (and its children) from validated values, with its `person.create` event."""
    return (await create_many_from_clean(session, [clean], reason=reason, correlation_id=correlation_id))[0]


async def create_many_from_clean(
    session: AsyncSession,
    cleans: Sequence[Mapping[str, Any]],
    *,
    reason: str | None = None,
    correlation_id: str | None = None,
) -> list[Person]:
    """Insert records from validated values in one flush (an import brings thousands), then write one
    `person.create` event per record."""
    repository = PersonRepository(session)
    created: list[tuple[Person, dict[str, Any]]] = []
    for clean in cleans:
        values = creation_defaults(dict(clean))
        person = new_person(repository.tenant_id, values)
        repository.add(person)
        created.append((person, values))
    await flush_guarding_resident_id(session)
    for person, values in created:
        for child in values["children"]:
            repository.add(PersonChild(id=uuid.uuid4(), tenant_id=person.tenant_id, person_id=person.id, **child))
    await session.flush()
    for person, values in created:
        changes = audit.diff(None, {**snapshot(person), "children": values["children"]}, redact=REDACTED_FIELDS)
        await audit.record_about(
            session, ENTITY_TYPE, person, "person.create", changes, reason=reason, correlation_id=correlation_id
        )
    return [person for person, _ in created]


def planned_changes(
    person: Person,
    clean: Mapping[str, Any],
    *,
    children: list[PersonChild] | None = None,
    reactivate: bool = False,
) -> dict[str, Any]:
    """The audit diff that applying `clean` would make (empty: nothing would change); writes nothing.
    With `reactivate`, a departed person would become active again (a re-registration)."""
    before = snapshot(person, children)
    after = desired_values(before, clean)
    if reactivate and person.status == PersonStatus.departed:
        after["status"] = PersonStatus.active
    return audit.diff(before, after, redact=REDACTED_FIELDS)


async def update_from_clean(
    session: AsyncSession,
    person: Person,
    clean: Mapping[str, Any],
    *,
    action: str = "person.update",
    reason: str | None = None,
    reactivate: bool = False,
    correlation_id: str | None = None,
) -> dict[str, Any]:
    """Apply validated values to a record, with its audit event; returns the diff (empty: nothing changed)."""
    repository = PersonRepository(session)
    children = await repository.children_of(person.id) if "children" in clean else None
    changes = planned_changes(person, clean, children=children, reactivate=reactivate)
    if not changes:
        return changes
    if "resident_id" in changes and (number := clean.get("resident_id")):
        holder = await repository.by_resident_id_hash(resident_id_digest(number), exclude=person.id)
        if holder is not None:
            raise ResidentIdTaken()
    apply_changes(person, clean, changes)
    if "status" in changes:
        person.status = PersonStatus.active
    if "children" in changes and children is not None:
        await replace_children(session, person, children, clean["children"])
    await flush_guarding_resident_id(session)
    await audit.record_about(
        session, ENTITY_TYPE, person, action, changes, reason=reason, correlation_id=correlation_id
    )
    return changes
