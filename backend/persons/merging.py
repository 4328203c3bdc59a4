"""Duplicate records (重复登记): finding them, merging one into another (合并), and undoing a merge.

- A merge folds a duplicate record (the source) into another (the target): the source keeps its data, children
  and case references and points at the target (status `merged`); the target's empty fields are filled from the
  source and the names of those fields are recorded in the merge event, so that an unmerge can empty them again.
- Undoing a merge is an administrator's act: it needs person.write on the records' units AND person.unmerge over
  the whole county (a county supervisor who also holds a casework role). It restores the status the source had
  before the merge (normally active).
- Both records get an event of each merge and unmerge, sharing one correlation id.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from backend.audit import service as audit
from backend.audit.repository import AuditRepository
from backend.authz.principal import Principal
from backend.authz.vocabulary import Action
from backend.core.clock import utc_now
from backend.models import AuditEvent, Person, PersonStatus
from backend.persons.errors import MergeRejected, NotMerged, PersonMerged, ResidentIdTaken, UnmergeForbidden
from backend.persons.identifiers import clear_field, copy_field, field_value
from backend.persons.names import names_match
from backend.persons.records import ENTITY_TYPE, PLAIN_COLUMNS, diff, flush_guarding_resident_id, snapshot
from backend.persons.repository import PersonRepository
from backend.persons.schemas import PersonListItem, PersonMerge, PersonUnmerge
from backend.persons.service import listed
from backend.persons.validation import NOT_NULL

# A merge fills the target's empty fields from the source: its identifiers and every field a record may be without.
MERGE_FILLABLE = ("resident_id", "phone", *(name for name in PLAIN_COLUMNS if name not in NOT_NULL))


async def duplicate_candidates(session: AsyncSession, principal: Principal, person: Person) -> list[PersonListItem]:
    """Records of the county (within the caller's reach) that may be the same person without an ID number to
    prove it: same sex, same birth date, and a name that matches in characters or in pinyin (张三 ~ Zhang San)."""
    candidates = await PersonRepository(session).same_sex_and_birth_date(
        person, principal.scopes_for(Action.person_read)
    )
    return await listed(session, principal, [other for other in candidates if names_match(person.name, other.name)])


def _merge_target(source: Person, target: Person | None, principal: Principal) -> Person:
    """The target, unless the two records cannot be one (each reason with its message at `into_id`)."""
    if target is None or not principal.can(Action.person_write, target.org_unit_code):
        raise MergeRejected("into_id", "目标记录不存在或超出您的管理范围", "no such record within your reach")
    if target.id == source.id:
        raise MergeRejected("into_id", "不能与自身合并", "a record cannot be merged into itself")
    if target.status == PersonStatus.merged:
        raise MergeRejected("into_id", "目标记录本身已被合并", "the target record is itself merged")
    if source.sex != target.sex:
        raise MergeRejected("into_id", "两条记录的性别不同", "the two records differ in sex")
    if source.resident_id_hash and target.resident_id_hash and source.resident_id_hash != target.resident_id_hash:
        raise MergeRejected("into_id", "两条记录的身份证号码不同，不是同一人", "the records carry different ID numbers")
    if source.birth_date and target.birth_date and source.birth_date != target.birth_date:
        raise MergeRejected("into_id", "两条记录的出生日期不同", "the two records differ in birth date")
    return target


async def _record_both(
    session: AsyncSession,
    action: str,
    records: list[tuple[Person, dict[str, Any]]],
    *,
    reason: str,
    correlation_id: str | None,
) -> None:
    """The event of a merge or unmerge on each record it changed, under one correlation id."""
    for person, changes in records:
        await audit.record_about(
            session, ENTITY_TYPE, person, action, changes, reason=reason, correlation_id=correlation_id
        )


async def merge_persons(
    session: AsyncSession, principal: Principal, source: Person, body: PersonMerge
) -> tuple[Person, Person]:
    """Fold the duplicate `source` into `body.into_id` (person.write on both); `(source, target)`.

    The source keeps all its data, its children and the cases that name it, and becomes `merged` with
    `merged_into_id`; the target's empty fields are filled from the source. Both records get a `person.merge`
    event sharing a correlation id; the source's names the filled fields (`moved_to_target`) for the unmerge.
    """
    if source.status == PersonStatus.merged:
        raise PersonMerged()
    target = _merge_target(source, await PersonRepository(session).get(body.into_id), principal)
    moved = [
        name
        for name in MERGE_FILLABLE
        if field_value(target, name) is None
        and field_value(source, name) is not None
        and not (name == "spouse_id" and source.spouse_id == target.id)
    ]
    before_source, before_target = snapshot(source), snapshot(target)
    # The source leaves the ID number's unique index first, so the target may take the number over.
    source.status = PersonStatus.merged
    source.merged_into_id = target.id
    source.updated_at = utc_now()
    await session.flush()
    for name in moved:
        copy_field(source, target, name)
    if moved:
        target.updated_at = utc_now()
    await flush_guarding_resident_id(session)
    await _record_both(
        session,
        "person.merge",
        [
            (source, diff(before_source, source, moved_to_target=[None, moved])),
            (target, diff(before_target, target, merged_from=[None, str(source.id)])),
        ],
        reason=body.reason,
        correlation_id=str(uuid.uuid4()),
    )
    return source, target


def may_unmerge(principal: Principal, source: Person, target: Person | None) -> bool:
    """Undoing a merge: person.write on both records' units and person.unmerge over the whole county (a
    county supervisor: the decision reaches across townships and restores identifiers)."""
    county = principal.tenant_code or ""
    return (
        bool(county)
        and principal.can(Action.person_unmerge, county)
        and principal.can(Action.person_write, source.org_unit_code)
        and (target is None or principal.can(Action.person_write, target.org_unit_code))
    )


def _last_merge_event(events: list[AuditEvent]) -> AuditEvent | None:
    merges = [event for event in events if event.action == "person.merge" and "moved_to_target" in event.changes]
    return merges[-1] if merges else None


async def unmerge_person(
    session: AsyncSession, principal: Principal, source: Person, body: PersonUnmerge
) -> tuple[Person, Person | None]:
    """Reverse a merge: the source gets back the status it had, and the fields the merge filled on the target
    are emptied again where they still hold the source's value (later edits on the target are kept)."""
    repository = PersonRepository(session)
    target = await repository.get(source.merged_into_id) if source.merged_into_id is not None else None
    if not may_unmerge(principal, source, target):
        raise UnmergeForbidden()
    if source.status != PersonStatus.merged:
        raise NotMerged()
    merge_event = _last_merge_event(await AuditRepository(session).list_for_entity(ENTITY_TYPE, str(source.id)))
    moved: list[str] = list(merge_event.changes["moved_to_target"][1]) if merge_event is not None else []
    previous_status = PersonStatus.active
    if merge_event is not None and "status" in merge_event.changes:
        previous_status = PersonStatus(merge_event.changes["status"][0])
    correlation_id = merge_event.correlation_id if merge_event is not None else str(uuid.uuid4())
    before_source = snapshot(source)
    before_target = snapshot(target) if target is not None else {}
    cleared: list[str] = []
    if target is not None:
        for name in moved:
            if name in MERGE_FILLABLE and field_value(target, name) == field_value(source, name):
                clear_field(target, name)
                cleared.append(name)
        if cleared:
            target.updated_at = utc_now()
            await session.flush()
    if source.resident_id_hash is not None:
        holder = await repository.by_resident_id_hash(source.resident_id_hash, exclude=source.id)
        if holder is not None:
            raise ResidentIdTaken(loc=None)
    source.status = previous_status
    source.merged_into_id = None
    source.updated_at = utc_now()
    await flush_guarding_resident_id(session)
    records = [(source, diff(before_source, source, cleared_on_target=[None, cleared]))]
    if target is not None:
        records.append((target, diff(before_target, target, unmerged=[str(source.id), None])))
    await _record_both(session, "person.unmerge", records, reason=body.reason, correlation_id=correlation_id)
    return source, target
