"""The floating-population registry (流动人口登记): register, change, depart (注销), read and find.

Rules this module keeps:
- One record per resident ID number per county. Registering a number the county already holds updates that
  record (a re-registration, audited `person.update` with reason "re-registration") instead of adding a row.
- An inflow person whose household registration lies in another county: that county is told of the
  registration and of the departure (流入登记通报, 离开通报; backend/verification/notices.py), in the same
  transaction, whoever registers (the API, the pages, the import, an accepted department notification).
- ID and phone numbers (backend/persons/identifiers.py) leave this module masked, except on the detail view for
  holders of person.read_identifiers on the person's unit, and every such view is audited
  (`person.view_identifiers`, without the numbers).
- Every change is an audit event whose diff redacts the identifiers (backend/persons/records.py); the audit log
  is the person's history.
- Dates are judged by the China calendar date (UTC+8), since a county's day starts at local midnight.

Fields are checked in backend/persons/validation.py; duplicates and merges are backend/persons/merging.py.
"""

from __future__ import annotations

import re
import uuid
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, fields
from typing import Any

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from backend.audit import service as audit
from backend.audit.repository import AuditRepository
from backend.authz.principal import Principal
from backend.authz.service import audit_break_glass_listing
from backend.authz.vocabulary import Action
from backend.core.clock import china_today, utc_now
from backend.core.errors import FieldError, InvalidInput, StaleVersion
from backend.core.pagination import Page, PageParams
from backend.data_review.pending import hold_change, hold_registration, needs_confirmation
from backend.models import EntryKind, Person, PersonStatus, ReviewState
from backend.persons.errors import PersonInputRejected, PersonMerged, PersonNotActive, RegisteredOutsideReach
from backend.persons.identifiers import (
    masked_identifiers,
    normalise_phone,
    parsed_resident_id,
    phone_digest,
    phone_of,
    resident_id_digest,
    resident_id_of,
)
from backend.persons.names import name_search_keys
from backend.persons.records import (
    ENTITY_TYPE,
    create_from_clean,
    diff,
    planned_changes,
    snapshot,
    update_from_clean,
)
from backend.persons.repository import PersonFilters, PersonRepository, PersonSearch
from backend.persons.resident_id import mask_phone, mask_resident_id, normalise_resident_id
from backend.persons.schemas import (
    ChildRead,
    PersonCreate,
    PersonDepart,
    PersonHistoryEntry,
    PersonListItem,
    PersonRead,
    PersonUpdate,
)
from backend.persons.validation import body_loc, check_person_fields, check_spouse, load_rules, problem
from backend.verification.notices import FlowNotice, notify_registration_place

RE_REGISTRATION = "re-registration"
# Fields of the read bodies that the row does not hold as they are.
_COMPUTED = frozenset({"resident_id", "phone", "identifiers_masked", "children"})
# A registration the township has not confirmed (or sent back): corrected in place, it does not count yet anyway.
_UNCONFIRMED = (ReviewState.pending, ReviewState.rejected)


@dataclass(frozen=True, slots=True)
class Registration:
    """A registration done: the record, whether it was an existing one (re-registration), and the notice to the
    registration county (None when nobody was notified)."""

    person: Person
    merged_into_existing: bool
    notice: FlowNotice | None


@dataclass(frozen=True, slots=True)
class Departure:
    """A departure recorded, and the notice to the registration county (None when nobody was notified)."""

    person: Person
    notice: FlowNotice | None


# --- reading --------------------------------------------------------------------------------------------


async def person_in_reach(session: AsyncSession, principal: Principal, person_id: uuid.UUID, action: Action) -> Person:
    """The person if the principal may perform `action` on it; 404 otherwise, as if it did not exist.

    A caller who may read the record but not change it gets 403 for a change: they already know it exists.
    """
    return await PersonRepository(session).get_in_reach(principal, action, person_id, visible_with=Action.person_read)


async def person_read(
    session: AsyncSession, principal: Principal, person: Person, *, reveal_identifiers: bool = False
) -> PersonRead:
    """The detail body. With `reveal_identifiers`, holders of person.read_identifiers on the person's unit get
    the full numbers and the view is audited; everyone else, and every other use, gets masked numbers."""
    children = await PersonRepository(session).children_of(person.id)
    resident_id, phone = resident_id_of(person), phone_of(person)
    reveal = reveal_identifiers and principal.can(Action.person_read_identifiers, person.org_unit_code)
    if reveal and (resident_id is not None or phone is not None):
        shown = [name for name, value in (("resident_id", resident_id), ("phone", phone)) if value]
        await audit.record_about(session, ENTITY_TYPE, person, "person.view_identifiers", {"fields": shown})
    if not reveal:
        resident_id = mask_resident_id(resident_id) if resident_id is not None else None
        phone = mask_phone(phone) if phone is not None else None
    return PersonRead(
        **_stored(person, PersonRead),
        resident_id=resident_id,
        phone=phone,
        identifiers_masked=not reveal,
        children=[ChildRead.model_validate(child) for child in children],
    )


def list_item(person: Person) -> PersonListItem:
    """A list row: identifiers masked, always."""
    resident_id, phone = masked_identifiers(person)
    return PersonListItem(**_stored(person, PersonListItem), resident_id=resident_id, phone=phone)


async def listed(session: AsyncSession, principal: Principal, persons: list[Person]) -> list[PersonListItem]:
    """The rows of a list the principal was shown; those only a break-glass grant let her see are audited."""
    units = {person.org_unit_code for person in persons}
    await audit_break_glass_listing(session, principal, Action.person_read, entity_type=ENTITY_TYPE, unit_codes=units)
    return [list_item(person) for person in persons]


def _stored(person: Person, schema: type[BaseModel]) -> dict[str, Any]:
    """The fields of `schema` that the row holds as they are: all but the identifiers and what is computed."""
    return {name: getattr(person, name) for name in schema.model_fields if name not in _COMPUTED}


@dataclass(frozen=True, slots=True)
class PersonQuery(PersonFilters):
    """The list filters as the API receives them: those that apply as given, and unvalidated text for the name
    (characters or pinyin), the ID number and the phone number."""

    q: str | None = None
    resident_id: str | None = None
    phone: str | None = None


_LOOSE_RESIDENT_ID = re.compile(r"[0-9]{17}[0-9X]")


def _search_for(query: PersonQuery) -> PersonSearch:
    """The repository's filters for the query: the name's search keys and the identifiers' lookup digests (all the
    query's problems at once)."""
    problems: list[FieldError] = []
    keys: dict[str, Any] = {}
    if query.q is not None and query.q.strip():
        name = name_search_keys(query.q)
        if name.script == "empty":
            problem(problems, ("query", "q"), "请输入姓名中的汉字或拼音", "search by the name in characters or pinyin")
        else:
            keys["name_text"] = name.normalized
            # One Han character is matched as typed; longer queries also find the same sound written otherwise
            # (张三 finds "Zhang San" and the homophone 章三, as a clerk typing by ear would want).
            if name.script != "han" or len(name.initials) >= 2:
                keys["name_pinyin"] = name.pinyin or None
            letters = name.normalized.replace(" ", "")
            if name.script == "latin" and letters.isalpha() and len(letters) <= 6:
                keys["initials"] = letters
    if query.resident_id is not None and query.resident_id.strip():
        number = normalise_resident_id(query.resident_id)
        # Only the shape is checked: a number stored before a rule changed must still be findable.
        if _LOOSE_RESIDENT_ID.fullmatch(number) is None:
            problem(
                problems,
                ("query", "resident_id"),
                "身份证号码应为18位（前17位为数字，最后一位为数字或X）",
                "an ID number has 18 characters: 17 digits and a digit or X",
            )
        else:
            keys["resident_id_hash"] = resident_id_digest(number)
    if query.phone is not None and query.phone.strip():
        phone = normalise_phone(query.phone)
        if phone is None:
            problem(problems, ("query", "phone"), "电话号码格式不正确", "not a phone number")
        else:
            keys["phone_hash"] = phone_digest(phone)
    if problems:
        raise InvalidInput("查询条件有误 / Invalid search", problems)
    as_given = {field.name: getattr(query, field.name) for field in fields(PersonFilters)}
    return PersonSearch(**as_given, **keys)


def search_for(query: PersonQuery) -> PersonSearch:
    """The repository's filters for a list or export query (refuses an unusable name, ID or phone query)."""
    return _search_for(query)


async def list_persons(
    session: AsyncSession, principal: Principal, query: PersonQuery, page: PageParams
) -> Page[PersonListItem]:
    """One page of the registry, limited in SQL to the subtrees where the principal may read persons."""
    search = _search_for(query)
    persons, total = await PersonRepository(session).search(
        search, principal.scopes_for(Action.person_read), offset=page.offset, limit=page.size
    )
    return Page[PersonListItem](
        items=await listed(session, principal, persons), total=total, page=page.page, size=page.size
    )


async def person_history(session: AsyncSession, person: Person) -> list[PersonHistoryEntry]:
    """The person's audit events, oldest first: who changed what when (identifiers appear only as ***)."""
    events = await AuditRepository(session).list_for_entity(ENTITY_TYPE, str(person.id))
    return [PersonHistoryEntry.model_validate(event) for event in events]


# --- writing --------------------------------------------------------------------------------------------


async def _announce_arrival(session: AsyncSession, principal: Principal, person: Person) -> FlowNotice | None:
    """Tell the registration county of an inflow person registered here, or back (a departed record registered
    again), that she arrived (流入登记通报); None when there is nobody to tell."""
    return await notify_registration_place(session, person, "inflow_registered", person.flow_date, principal.subject)


async def announce_arrivals(session: AsyncSession, principal: Principal, persons: Iterable[Person]) -> Counter[str]:
    """The arrival notices of several persons registered at once (an import), one per person, in this
    transaction; the counts by outcome (`sent`, `off_platform`)."""
    outcomes: Counter[str] = Counter()
    for person in persons:
        if (notice := await _announce_arrival(session, principal, person)) is not None:
            outcomes[notice.outcome] += 1
    return outcomes


async def register_person(session: AsyncSession, principal: Principal, body: PersonCreate) -> Registration:
    """Register a person, and tell the registration county of an inflow person (流入登记通报).

    When the county already holds the ID number, the existing record is updated with the given fields instead
    (re-registration; a departed person becomes active again, and her registration county hears of her return).
    If that record belongs to a unit outside the caller's reach, the registration is refused with 409 so the
    county can transfer it.
    """
    rules = await load_rules(session, principal)
    given = body.model_dump(exclude_unset=True)
    clean, problems = check_person_fields(given, rules=rules)
    if "sex" not in clean and not ("resident_id" in given and "resident_id" not in clean):
        problem(problems, body_loc("sex"), "必填（或填写身份证号码）", "required unless a resident ID number is given")
    problems += await check_spouse(session, principal, clean.get("spouse_id"), None)
    if problems:
        raise PersonInputRejected(problems)
    number = clean.get("resident_id")
    existing = await PersonRepository(session).by_resident_id_hash(resident_id_digest(number)) if number else None
    if existing is None:
        person = await create_from_clean(session, clean)
        if await needs_confirmation(session, principal, person.org_unit_code):
            await hold_registration(session, principal, person, diff(None, person))
            return Registration(person, False, None)  # the registration county hears of it once confirmed
        return Registration(person, False, await _announce_arrival(session, principal, person))
    if not principal.can(Action.person_write, existing.org_unit_code):
        raise RegisteredOutsideReach()
    if clean.get("spouse_id") == existing.id:
        raise PersonInputRejected(
            [FieldError(body_loc("spouse_id"), "配偶不能是本人 / a person is not their own spouse")]
        )
    if existing.review_state in _UNCONFIRMED:
        await _change_unconfirmed(session, principal, existing, clean, reason=RE_REGISTRATION, reactivate=True)
        return Registration(existing, True, None)
    if await needs_confirmation(session, principal, existing.org_unit_code):
        changes = planned_changes(existing, clean, reactivate=True)
        if changes:
            await hold_change(session, principal, existing, EntryKind.re_registration, _entered(body), changes)
        return Registration(existing, True, None)
    arrived = existing.status == PersonStatus.departed
    await update_from_clean(session, existing, clean, reason=RE_REGISTRATION, reactivate=True)
    notice = await _announce_arrival(session, principal, existing) if arrived else None
    return Registration(existing, True, notice)


def _entered(body: BaseModel) -> dict[str, Any]:
    """What was entered, as JSON, to be held until the township confirms it."""
    return body.model_dump(mode="json", exclude_unset=True, exclude={"version"})


async def _change_unconfirmed(
    session: AsyncSession, principal: Principal, person: Person, clean: dict[str, Any], **options: Any
) -> None:
    """A registration still unconfirmed is corrected in place; one the township sent back goes back to it."""
    rejected = person.review_state == ReviewState.rejected
    await update_from_clean(session, person, clean, **options)
    if rejected:
        await hold_registration(session, principal, person, diff(None, person))


async def update_person(
    session: AsyncSession,
    principal: Principal,
    person: Person,
    body: PersonUpdate,
    *,
    action: str = "person.update",
    reason: str | None = None,
) -> Person:
    """Change a record the principal may write (optimistic lock on `version`; 409 with current values). `action`
    and `reason` name the audit event (a re-check's correction is `person.correct`)."""
    if person.status == PersonStatus.merged:
        raise PersonMerged()
    if body.version != person.version:
        raise StaleVersion(current=(await person_read(session, principal, person)).model_dump(mode="json"))
    given = body.model_dump(exclude_unset=True, exclude={"version"})
    rules = await load_rules(session, principal)
    needs_id = ("birth_date" in given or "sex" in given) and "resident_id" not in given
    clean, problems = check_person_fields(
        given,
        rules=rules,
        existing=person,
        existing_resident_id=parsed_resident_id(person) if needs_id else None,
    )
    if "spouse_id" in clean:
        problems += await check_spouse(session, principal, clean["spouse_id"], person.id)
    if problems:
        raise PersonInputRejected(problems)
    if person.review_state in _UNCONFIRMED:
        await _change_unconfirmed(session, principal, person, clean)
    elif await needs_confirmation(session, principal, person.org_unit_code):
        children = await PersonRepository(session).children_of(person.id) if "children" in clean else None
        changes = planned_changes(person, clean, children=children)
        if changes:
            await hold_change(session, principal, person, EntryKind.change, _entered(body), changes)
    else:
        await update_from_clean(session, person, clean, action=action, reason=reason)
    return person


async def depart_person(session: AsyncSession, principal: Principal, person: Person, body: PersonDepart) -> Departure:
    """注销: the person left; the record stays for the registers with status `departed`, and the registration
    county of an inflow person is told (离开通报). The departure date and reason are kept in the audit event (the
    registry has no column for them)."""
    if body.version is not None and body.version != person.version:
        raise StaleVersion(current=(await person_read(session, principal, person)).model_dump(mode="json"))
    if person.status != PersonStatus.active:
        raise PersonNotActive(person.status.value)
    if body.departed_on > china_today():
        raise PersonInputRejected(
            [FieldError(body_loc("departed_on"), "注销日期不能晚于今天 / the departure date is in the future")]
        )
    before = snapshot(person)
    person.status = PersonStatus.departed
    person.updated_at = utc_now()
    await session.flush()
    changes = diff(before, person, departed_on=[None, body.departed_on.isoformat()])
    await audit.record_about(session, ENTITY_TYPE, person, "person.depart", changes, reason=body.reason)
    notice = await notify_registration_place(session, person, "inflow_left", body.departed_on, principal.subject)
    return Departure(person, notice)
