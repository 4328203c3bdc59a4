"""The floating-population registry (流动人口登记): register, change, depart (注销), find, merge duplicates.

Rules this module keeps:
- One record per resident ID number per county. Registering a number the county already holds updates that
  record (a re-registration, audited `person.update` with reason "re-registration") instead of adding a row.
- ID and phone numbers are stored only as ciphertext plus a keyed lookup digest (backend/core/crypto.py). They
  leave this module masked, except on the detail view for holders of person.read_identifiers on the person's
  unit, and every such view is audited (`person.view_identifiers`, without the numbers).
- Every change is an audit event whose diff redacts the identifiers; the audit log is the person's history.
- A merge (合并) folds a duplicate record (the source) into another (the target): the source keeps its data,
  children and case references and points at the target (status `merged`); the target's empty fields are
  filled from the source and the names of those fields are recorded in the merge event, so that an unmerge
  can empty them again. Undoing a merge is an administrator's act: it needs person.write on the records' units
  AND config.manage over the whole county (a county administrator who also holds a casework role). It restores
  the status the source had before the merge (normally active).
- Dates are judged by the China calendar date (UTC+8), since a county's day starts at local midnight.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import Enum
from typing import Any, cast

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from backend.audit import service as audit
from backend.audit.repository import AuditRepository
from backend.authz.principal import Principal
from backend.authz.service import audit_break_glass_listing, authorize_unit
from backend.authz.vocabulary import Action
from backend.core.clock import china_today, utc_now
from backend.core.crypto import personal_data_cipher
from backend.core.divisions import county_of
from backend.core.errors import FieldError, Forbidden, InvalidInput, StaleVersion
from backend.core.pagination import Page, PageParams
from backend.models import AuditEvent, FlowDirection, OrgUnit, Person, PersonChild, PersonStatus, Sex
from backend.org.repository import OrgUnitRepository
from backend.persons.divisions import is_known_division
from backend.persons.errors import (
    InvalidResidentId,
    Loc,
    MergeRejected,
    NotMerged,
    PersonInputRejected,
    PersonMerged,
    PersonNotActive,
    PersonNotFound,
    RegisteredOutsideReach,
    ResidentIdTaken,
    UnmergeForbidden,
)
from backend.persons.names import name_search_keys, names_match
from backend.persons.repository import PersonRepository, PersonSearch
from backend.persons.resident_id import (
    ResidentId,
    check_consistency,
    mask_phone,
    mask_resident_id,
    normalise_resident_id,
    parse_resident_id,
)
from backend.persons.resident_id import Sex as IdSex
from backend.persons.schemas import (
    ChildRead,
    PersonCreate,
    PersonDepart,
    PersonHistoryEntry,
    PersonListItem,
    PersonMerge,
    PersonRead,
    PersonUnmerge,
    PersonUpdate,
)
from backend.tenants.repository import TenantRepository

ENTITY_TYPE = "person"
RESIDENT_ID_CONTEXT = "person.resident_id"
PHONE_CONTEXT = "person.phone"
REDACTED_FIELDS = frozenset({"resident_id", "phone"})
RE_REGISTRATION = "re-registration"

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
# Fields a record may not be without: an update may leave them out but not set them to null.
_NOT_NULL = ("name", "sex", "ethnicity", "org_unit_code", "flow_direction", "key_subject")
_OPTIONAL_TEXT = (
    "registration_address",
    "residence_address",
    "flow_origin_destination",
    "landlord_or_employer",
    "notes",
)
_MAX_LENGTHS = {
    "name": 50,
    "ethnicity": 20,
    "registration_address": 200,
    "residence_address": 200,
    "flow_origin_destination": 200,
    "landlord_or_employer": 200,
    "notes": 2000,
    "resident_id": 40,
    "phone": 30,
}
_PASS_THROUGH = (
    "flow_direction",
    "flow_date",
    "marital_status",
    "contraception_measure",
    "key_subject",
    "spouse_id",
)
# A merge fills these fields of the target from the source when the target has none.
MERGE_FILLABLE = (
    "resident_id",
    "phone",
    "birth_date",
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
    "notes",
)
_RESIDENT_IN_COUNTY = (FlowDirection.inflow, FlowDirection.within_county)

LocFor = Callable[..., Loc]


def body_loc(*parts: str | int) -> Loc:
    """Where a field of a JSON body is: `("body", "resident_id")`, `("body", "children", 0, "birth_date")`."""
    return ("body", *parts)


# --- phone numbers -------------------------------------------------------------------------------------

_MOBILE = re.compile(r"1[3-9][0-9]{9}")
_AREA_CODE = re.compile(r"0[1-9][0-9]{1,2}")
_SUBSCRIBER = re.compile(r"[2-9][0-9]{6,7}")
_COUNTRY_PREFIX = re.compile(r"^(?:\+|00)86")
_PHONE_SEPARATORS = re.compile(r"[\s()\-]+")


def normalise_phone(raw: str) -> str | None:
    """The stored form of a mainland phone number, or None when it is not one.

    Mobile numbers (1[3-9] + 9 digits) become 11 digits; landlines become `area-subscriber` (`0571-87654321`,
    area code 0 + 2-3 digits, subscriber 7-8 digits not starting with 0 or 1); a local number without area
    code stays as its 7-8 digits. Full-width digits, spaces, hyphens, brackets and a +86/0086 prefix are
    accepted on input.
    """
    text = unicodedata.normalize("NFKC", raw).strip()
    text = _COUNTRY_PREFIX.sub("", text)
    groups = [group for group in _PHONE_SEPARATORS.split(text) if group]
    digits = "".join(groups)
    if not digits.isascii() or not digits.isdigit():
        return None
    if _MOBILE.fullmatch(digits):
        return digits
    if digits.startswith("0"):
        if len(groups) > 1 and _AREA_CODE.fullmatch(groups[0]):
            area, subscriber = groups[0], "".join(groups[1:])
        else:
            split = 3 if digits[:2] in ("01", "02") else 4
            area, subscriber = digits[:split], digits[split:]
        if _AREA_CODE.fullmatch(area) and _SUBSCRIBER.fullmatch(subscriber):
            return f"{area}-{subscriber}"
        return None
    if _SUBSCRIBER.fullmatch(digits):
        return digits
    return None


# --- validating a person's fields -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Rules:
    """What field validation needs to know: who asks, the county's org units, and today's date in China."""

    principal: Principal
    units: Mapping[str, OrgUnit]
    today: date
    # Casbin's answer per unit, remembered for the request: an import asks about the same few units thousands
    # of times, and one enforce() costs milliseconds.
    _may_write: dict[str, bool] = field(default_factory=dict)
    # County codes of the counties on this instance: their divisions are known places even when a code is newer
    # than the division table's edition (a registration place in another county of the platform).
    platform_counties: frozenset[str] = frozenset()

    def may_write(self, unit_code: str) -> bool:
        """Whether the principal holds person.write on `unit_code`."""
        if unit_code not in self._may_write:
            self._may_write[unit_code] = self.principal.can(Action.person_write, unit_code)
        return self._may_write[unit_code]


async def load_rules(session: AsyncSession, principal: Principal) -> Rules:
    """The validation context for this request (the county's whole org tree: hundreds of rows, not millions)."""
    counties = await TenantRepository(session).active_codes()
    return Rules(
        principal=principal,
        units=await OrgUnitRepository(session).all_by_code(),
        today=china_today(),
        platform_counties=counties,
    )


def _problem(problems: list[FieldError], loc: Loc, zh: str, en: str) -> None:
    problems.append(FieldError(loc, f"{zh} / {en}"))


def _blank_to_none(value: Any) -> Any:
    if isinstance(value, str) and not isinstance(value, Enum):
        value = value.strip()
        return value or None
    return value


def is_acceptable_division(code: str, units: Mapping[str, OrgUnit]) -> bool:
    """A place code: a unit of this county, or a division code whose first six digits are a known division
    (GB/T 2260, historical codes included). Township (9) and village (12) codes elsewhere are not tabled."""
    return code in units or is_known_division(county_of(code))


def _is_known_place(code: str, rules: Rules) -> bool:
    return is_acceptable_division(code, rules.units) or county_of(code) in rules.platform_counties


def _is_active_unit(code: str, units: Mapping[str, OrgUnit]) -> bool:
    unit = units.get(code)
    return unit is not None and unit.active


def check_person_fields(
    values: Mapping[str, Any],
    *,
    rules: Rules,
    existing: Person | None = None,
    existing_resident_id: ResidentId | None = None,
    loc: LocFor = body_loc,
) -> tuple[dict[str, Any], list[FieldError]]:
    """Validate and normalise the fields given in `values` (unset fields are simply absent).

    Returns `(clean, problems)`: `clean` holds the normalised values under model attribute names, with the plain
    resident ID number under `resident_id` and the phone under `phone` (the caller encrypts them), and the
    name's search keys under `name_pinyin`/`name_initials`; `problems` lists every bad field at once, at
    `loc(field)`. With a (new or existing) ID number, birth date and sex follow it and must not contradict it.
    `existing` is the record being changed (None for a registration); `existing_resident_id` its parsed number,
    needed only when birth date or sex change without the number.
    """
    values = {name: _blank_to_none(value) for name, value in values.items()}
    clean: dict[str, Any] = {}
    problems: list[FieldError] = []
    today = rules.today

    for name in _NOT_NULL:
        if name in values and values[name] is None and (existing is not None or name != "sex"):
            _problem(problems, loc(name), "不能为空", "must not be empty")
    # The API's schemas limit lengths already; imported cells arrive unchecked.
    for name, limit in _MAX_LENGTHS.items():
        if isinstance(values.get(name), str) and len(values[name]) > limit:
            _problem(problems, loc(name), f"超过{limit}个字符", f"longer than {limit} characters")
            values.pop(name)

    if values.get("name") is not None:
        keys = name_search_keys(values["name"])
        if keys.script == "empty":
            _problem(problems, loc("name"), "姓名应包含汉字或字母", "the name must contain characters or letters")
        else:
            stored = (
                keys.normalized
                if keys.script in ("han", "mixed")
                else " ".join(unicodedata.normalize("NFKC", values["name"]).split())
            )
            clean["name"] = stored[:50]
            clean["name_pinyin"] = keys.pinyin[:120]
            clean["name_initials"] = keys.initials[:20]

    if values.get("ethnicity") is not None:
        clean["ethnicity"] = unicodedata.normalize("NFKC", values["ethnicity"]).strip()

    parsed_id = existing_resident_id
    if "resident_id" in values:
        parsed_id = None
        if values["resident_id"] is None:
            clean["resident_id"] = None
        else:
            try:
                parsed_id = parse_resident_id(values["resident_id"], today=today, loc=loc("resident_id"))
                clean["resident_id"] = parsed_id.number
            except InvalidResidentId as refused:
                problems.extend(refused.fields)
    entered_sex = values.get("sex")
    entered_birth_date = values.get("birth_date")
    if parsed_id is not None:
        problems.extend(
            check_consistency(
                parsed_id,
                birth_date=entered_birth_date,
                sex=cast(IdSex | None, Sex(entered_sex).value if entered_sex is not None else None),
                birth_date_loc=loc("birth_date"),
                sex_loc=loc("sex"),
            )
        )
        if "resident_id" in values or "birth_date" in values:
            clean["birth_date"] = parsed_id.birth_date
        if "resident_id" in values or "sex" in values:
            clean["sex"] = Sex(parsed_id.sex)
    else:
        if "birth_date" in values:
            if entered_birth_date is not None and entered_birth_date > today:
                _problem(problems, loc("birth_date"), "出生日期不能晚于今天", "the birth date is in the future")
            elif entered_birth_date is not None and entered_birth_date < date(1900, 1, 1):
                _problem(problems, loc("birth_date"), "出生日期不能早于1900年", "the birth date is before 1900")
            else:
                clean["birth_date"] = entered_birth_date
        if entered_sex is not None:
            clean["sex"] = entered_sex

    if "phone" in values:
        if values["phone"] is None:
            clean["phone"] = None
        elif (phone := normalise_phone(values["phone"])) is None:
            _problem(
                problems,
                loc("phone"),
                "电话号码格式不正确：手机号应为以13-19开头的11位数字，固定电话应为区号加7-8位号码",
                "not a phone number: a mobile has 11 digits starting 13-19, a landline an area code and 7-8 digits",
            )
        else:
            clean["phone"] = phone

    if values.get("org_unit_code") is not None:
        code = values["org_unit_code"]
        if not _is_active_unit(code, rules.units) or not rules.may_write(code):
            _problem(
                problems,
                loc("org_unit_code"),
                "管理单位不是本县在用的单位，或超出您的管理范围",
                "the managing unit is not an active unit of this county within your reach",
            )
        else:
            clean["org_unit_code"] = code

    if "registration_division_code" in values:
        code = values["registration_division_code"]
        if code is not None and not _is_known_place(code, rules):
            _problem(
                problems,
                loc("registration_division_code"),
                f"户籍地区划代码{code}不是已知的行政区划",
                f"the registration division code {code} is not a known division",
            )
        else:
            clean["registration_division_code"] = code

    direction = values.get("flow_direction") or (existing.flow_direction if existing is not None else None)
    if "residence_division_code" in values:
        code = values["residence_division_code"]
        if code is not None and direction in _RESIDENT_IN_COUNTY and not _is_active_unit(code, rules.units):
            _problem(
                problems,
                loc("residence_division_code"),
                "流入或县内流动人员的现居住地应为本县在用的村（居）或乡镇（街道）",
                "for inflow and within-county people the residence must be an active unit of this county",
            )
        elif code is not None and not _is_known_place(code, rules):
            _problem(
                problems,
                loc("residence_division_code"),
                f"现居住地区划代码{code}不是已知的行政区划",
                f"the residence division code {code} is not a known division",
            )
        else:
            clean["residence_division_code"] = code

    if values.get("contraception_date") is not None and values["contraception_date"] > today:
        _problem(problems, loc("contraception_date"), "措施日期不能晚于今天", "the measure date is in the future")
    elif "contraception_date" in values:
        clean["contraception_date"] = values["contraception_date"]

    for name in _OPTIONAL_TEXT:
        if name in values:
            clean[name] = values[name]
    for name in _PASS_THROUGH:
        # Fields that may not be null were refused above when null; the others may be cleared.
        if name in values and (values[name] is not None or name not in _NOT_NULL):
            clean[name] = values[name]

    if "children" in values:
        parent_birth_date = clean.get("birth_date") or (existing.birth_date if existing is not None else None)
        clean["children"] = _check_children(values["children"] or [], parent_birth_date, today, loc, problems)
    return clean, problems


def _check_children(
    children: list[Mapping[str, Any]],
    parent_birth_date: date | None,
    today: date,
    loc: LocFor,
    problems: list[FieldError],
) -> list[dict[str, Any]]:
    orders = sorted(child["birth_order"] for child in children)
    if orders != list(range(1, len(children) + 1)):
        _problem(
            problems,
            loc("children"),
            "子女孩次应从1开始连续编号且不重复",
            "birth orders must run 1, 2, ... n without gaps or repeats",
        )
    clean: list[dict[str, Any]] = []
    for index, child in enumerate(children):
        if child["birth_date"] > today:
            _problem(problems, loc("children", index, "birth_date"), "出生日期不能晚于今天", "in the future")
        elif parent_birth_date is not None and child["birth_date"] <= parent_birth_date:
            _problem(
                problems,
                loc("children", index, "birth_date"),
                "子女出生日期应晚于本人出生日期",
                "a child's birth date must be after the parent's",
            )
        name = _blank_to_none(child.get("name"))
        clean.append(
            {"birth_order": child["birth_order"], "birth_date": child["birth_date"], "sex": child["sex"], "name": name}
        )
    return sorted(clean, key=lambda child: child["birth_order"])


async def _check_spouse(
    session: AsyncSession, principal: Principal, spouse_id: uuid.UUID | None, self_id: uuid.UUID | None
) -> list[FieldError]:
    """A spouse must be another unmerged person of this county whom the caller may read."""
    if spouse_id is None:
        return []
    spouse = await PersonRepository(session).readable_person(spouse_id, principal.scopes_for(Action.person_read))
    if spouse is None or spouse.id == self_id:
        return [FieldError(body_loc("spouse_id"), "配偶记录不存在或无权查看 / no such person within your reach")]
    return []


# --- rows, snapshots and changes ------------------------------------------------------------------------


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


def _child_values(child: PersonChild) -> dict[str, Any]:
    return {"birth_order": child.birth_order, "birth_date": child.birth_date, "sex": child.sex, "name": child.name}


def desired_values(before: Mapping[str, Any], clean: Mapping[str, Any]) -> dict[str, Any]:
    """`before` with the validated input laid over it, identifiers turned into their digests."""
    cipher = personal_data_cipher()
    after = dict(before)
    for name in PLAIN_COLUMNS:
        if name in clean:
            after[name] = clean[name]
    for name, context in (("resident_id", RESIDENT_ID_CONTEXT), ("phone", PHONE_CONTEXT)):
        if name in clean:
            after[name] = cipher.lookup_hash(clean[name], context=context) if clean[name] is not None else None
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
    _set_identifiers(person, {name: clean[name] for name in REDACTED_FIELDS if name in changes})
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
    _set_identifiers(person, clean)
    return person


def _set_identifiers(person: Person, clean: Mapping[str, Any]) -> None:
    """Encrypt the identifiers present in `clean` onto the row (None clears one)."""
    cipher = personal_data_cipher()
    for name, context in (("resident_id", RESIDENT_ID_CONTEXT), ("phone", PHONE_CONTEXT)):
        if name not in clean:
            continue
        value = clean[name]
        ciphertext = cipher.encrypt(value, context=context) if value is not None else None
        digest = cipher.lookup_hash(value, context=context) if value is not None else None
        setattr(person, f"{name}_ciphertext", ciphertext)
        setattr(person, f"{name}_hash", digest)


def creation_defaults(clean: dict[str, Any]) -> dict[str, Any]:
    """Fill what a new record needs but the input left out: the residence of an inflow or within-county person
    and the registration place of an outflow person default to the managing unit."""
    clean.setdefault("ethnicity", "汉族")
    clean.setdefault("key_subject", False)
    clean.setdefault("children", [])
    clean.setdefault("resident_id", None)
    clean.setdefault("phone", None)
    if clean.get("flow_direction") in _RESIDENT_IN_COUNTY and clean.get("residence_division_code") is None:
        clean["residence_division_code"] = clean.get("org_unit_code")
    if clean.get("flow_direction") == FlowDirection.outflow and clean.get("registration_division_code") is None:
        clean["registration_division_code"] = clean.get("org_unit_code")
    return clean


def resident_id_digest(number: str) -> str:
    """The keyed lookup digest of a normalised ID number (what the unique index and exact search use)."""
    return personal_data_cipher().lookup_hash(number, context=RESIDENT_ID_CONTEXT)


def phone_digest(phone: str) -> str:
    """The keyed lookup digest of a normalised phone number."""
    return personal_data_cipher().lookup_hash(phone, context=PHONE_CONTEXT)


def _decrypt(ciphertext: bytes | None, context: str) -> str | None:
    return personal_data_cipher().decrypt(ciphertext, context=context) if ciphertext is not None else None


def _parsed_resident_id(person: Person) -> ResidentId | None:
    """The person's stored number, parsed; None if there is none (or, for an old record, it no longer parses)."""
    number = _decrypt(person.resident_id_ciphertext, RESIDENT_ID_CONTEXT)
    if number is None:
        return None
    try:
        return parse_resident_id(number, today=china_today())
    except InvalidResidentId:
        return None


# --- reading --------------------------------------------------------------------------------------------


async def person_in_reach(session: AsyncSession, principal: Principal, person_id: uuid.UUID, action: Action) -> Person:
    """The person if the principal may perform `action` on it; 404 otherwise, as if it did not exist.

    A caller who may read the record but not change it gets 403 for a change: they already know it exists.
    """
    person = await PersonRepository(session).get(person_id)
    if person is None:
        raise PersonNotFound()
    if action is Action.person_write and not principal.can(action, person.org_unit_code):
        if principal.can(Action.person_read, person.org_unit_code):
            raise Forbidden()
    await authorize_unit(
        session,
        principal,
        action,
        person.org_unit_code,
        entity_type=ENTITY_TYPE,
        entity_id=str(person.id),
        not_found=PersonNotFound(),
    )
    return person


async def person_read(
    session: AsyncSession, principal: Principal, person: Person, *, reveal_identifiers: bool = False
) -> PersonRead:
    """The detail body. With `reveal_identifiers`, holders of person.read_identifiers on the person's unit get
    the full numbers and the view is audited; everyone else, and every other use, gets masked numbers."""
    children = await PersonRepository(session).children_of(person.id)
    resident_id = _decrypt(person.resident_id_ciphertext, RESIDENT_ID_CONTEXT)
    phone = _decrypt(person.phone_ciphertext, PHONE_CONTEXT)
    reveal = reveal_identifiers and principal.can(Action.person_read_identifiers, person.org_unit_code)
    if reveal and (resident_id is not None or phone is not None):
        await audit.record(
            session,
            action="person.view_identifiers",
            entity_type=ENTITY_TYPE,
            entity_id=person.id,
            org_unit_code=person.org_unit_code,
            changes={"fields": [name for name, value in (("resident_id", resident_id), ("phone", phone)) if value]},
        )
    if not reveal:
        resident_id = mask_resident_id(resident_id) if resident_id is not None else None
        phone = mask_phone(phone) if phone is not None else None
    return PersonRead(
        **{name: getattr(person, name) for name in PLAIN_COLUMNS},
        id=person.id,
        name_pinyin=person.name_pinyin,
        resident_id=resident_id,
        phone=phone,
        identifiers_masked=not reveal,
        children=[ChildRead.model_validate(child) for child in children],
        status=person.status,
        merged_into_id=person.merged_into_id,
        created_at=person.created_at,
        updated_at=person.updated_at,
        version=person.version,
    )


def list_item(person: Person) -> PersonListItem:
    """A list row: identifiers masked, always."""
    resident_id = _decrypt(person.resident_id_ciphertext, RESIDENT_ID_CONTEXT)
    phone = _decrypt(person.phone_ciphertext, PHONE_CONTEXT)
    return PersonListItem(
        id=person.id,
        name=person.name,
        sex=person.sex,
        birth_date=person.birth_date,
        resident_id=mask_resident_id(resident_id) if resident_id is not None else None,
        phone=mask_phone(phone) if phone is not None else None,
        org_unit_code=person.org_unit_code,
        flow_direction=person.flow_direction,
        flow_date=person.flow_date,
        status=person.status,
        key_subject=person.key_subject,
        created_at=person.created_at,
    )


@dataclass(frozen=True, slots=True)
class PersonQuery:
    """The list filters as the API receives them (unvalidated text for q, resident_id and phone)."""

    org_unit: str | None = None
    flow_direction: FlowDirection | None = None
    status: PersonStatus | None = None
    key_subject: bool | None = None
    sex: Sex | None = None
    q: str | None = None
    resident_id: str | None = None
    phone: str | None = None
    sort: str = "name"


_LOOSE_RESIDENT_ID = re.compile(r"[0-9]{17}[0-9X]")


def _search_for(query: PersonQuery) -> PersonSearch:
    problems: list[FieldError] = []
    name_text = name_pinyin = initials = None
    if query.q is not None and query.q.strip():
        keys = name_search_keys(query.q)
        if keys.script == "empty":
            _problem(problems, ("query", "q"), "请输入姓名中的汉字或拼音", "search by the name in characters or pinyin")
        else:
            name_text = keys.normalized
            # One Han character is matched as typed; longer queries also find the same sound written otherwise
            # (张三 finds "Zhang San" and the homophone 章三, as a clerk typing by ear would want).
            if keys.script != "han" or len(keys.initials) >= 2:
                name_pinyin = keys.pinyin or None
            letters = keys.normalized.replace(" ", "")
            if keys.script == "latin" and letters.isalpha() and len(letters) <= 6:
                initials = letters
    resident_id_hash = None
    if query.resident_id is not None and query.resident_id.strip():
        number = normalise_resident_id(query.resident_id)
        # Only the shape is checked: a number stored before a rule changed must still be findable.
        if _LOOSE_RESIDENT_ID.fullmatch(number) is None:
            _problem(
                problems,
                ("query", "resident_id"),
                "身份证号码应为18位（前17位为数字，最后一位为数字或X）",
                "an ID number has 18 characters: 17 digits and a digit or X",
            )
        else:
            resident_id_hash = resident_id_digest(number)
    phone_hash = None
    if query.phone is not None and query.phone.strip():
        phone = normalise_phone(query.phone)
        if phone is None:
            _problem(problems, ("query", "phone"), "电话号码格式不正确", "not a phone number")
        else:
            phone_hash = phone_digest(phone)
    if problems:
        raise InvalidInput("查询条件有误 / Invalid search", problems)
    return PersonSearch(
        org_unit=query.org_unit,
        flow_direction=query.flow_direction,
        status=query.status,
        key_subject=query.key_subject,
        sex=query.sex,
        name_text=name_text,
        name_pinyin=name_pinyin,
        initials=initials,
        resident_id_hash=resident_id_hash,
        phone_hash=phone_hash,
        sort=query.sort,
    )


async def list_persons(
    session: AsyncSession, principal: Principal, query: PersonQuery, page: PageParams
) -> Page[PersonListItem]:
    """One page of the registry, limited in SQL to the subtrees where the principal may read persons."""
    search = _search_for(query)
    persons, total = await PersonRepository(session).search(
        search, principal.scopes_for(Action.person_read), offset=page.offset, limit=page.size
    )
    await audit_break_glass_listing(
        session,
        principal,
        Action.person_read,
        entity_type=ENTITY_TYPE,
        unit_codes={person.org_unit_code for person in persons},
    )
    return Page[PersonListItem](
        items=[list_item(person) for person in persons], total=total, page=page.page, size=page.size
    )


async def duplicate_candidates(session: AsyncSession, principal: Principal, person: Person) -> list[PersonListItem]:
    """Records of the county (within the caller's reach) that may be the same person without an ID number to
    prove it: same sex, same birth date, and a name that matches in characters or in pinyin (张三 ~ Zhang San)."""
    candidates = await PersonRepository(session).same_sex_and_birth_date(
        person, principal.scopes_for(Action.person_read)
    )
    matches = [candidate for candidate in candidates if names_match(person.name, candidate.name)]
    await audit_break_glass_listing(
        session,
        principal,
        Action.person_read,
        entity_type=ENTITY_TYPE,
        unit_codes={candidate.org_unit_code for candidate in matches},
    )
    return [list_item(candidate) for candidate in matches]


async def person_history(session: AsyncSession, person: Person) -> list[PersonHistoryEntry]:
    """The person's audit events, oldest first: who changed what when (identifiers appear only as ***)."""
    events = await AuditRepository(session).list_for_entity(ENTITY_TYPE, str(person.id))
    return [PersonHistoryEntry.model_validate(event) for event in events]


# --- writing --------------------------------------------------------------------------------------------


async def _flush_guarding_resident_id(session: AsyncSession) -> None:
    """Flush; a concurrent registration of the same ID number (the unique index) becomes a 409."""
    try:
        await session.flush()
    except IntegrityError as error:
        if "uq_persons_resident_id_hash" in str(error.orig):
            raise ResidentIdTaken() from None
        raise


async def register_person(session: AsyncSession, principal: Principal, body: PersonCreate) -> tuple[Person, bool]:
    """Register a person; `(person, merged_into_existing)`.

    When the county already holds the ID number, the existing record is updated with the given fields instead
    (re-registration; a departed person becomes active again). If that record belongs to a unit outside the
    caller's reach, the registration is refused with 409 so the county can transfer it.
    """
    rules = await load_rules(session, principal)
    given = body.model_dump(exclude_unset=True)
    clean, problems = check_person_fields(given, rules=rules)
    if "sex" not in clean and not ("resident_id" in given and "resident_id" not in clean):
        _problem(problems, body_loc("sex"), "必填（或填写身份证号码）", "required unless a resident ID number is given")
    problems += await _check_spouse(session, principal, clean.get("spouse_id"), None)
    if problems:
        raise PersonInputRejected(problems)
    repository = PersonRepository(session)
    number = clean.get("resident_id")
    existing = await repository.by_resident_id_hash(resident_id_digest(number)) if number else None
    if existing is not None:
        if not principal.can(Action.person_write, existing.org_unit_code):
            raise RegisteredOutsideReach()
        if clean.get("spouse_id") == existing.id:
            raise PersonInputRejected(
                [FieldError(body_loc("spouse_id"), "配偶不能是本人 / a person is not their own spouse")]
            )
        await update_from_clean(session, existing, clean, reason=RE_REGISTRATION, reactivate=True)
        return existing, True
    return await create_from_clean(session, clean), False


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
    await _flush_guarding_resident_id(session)
    for person, values in created:
        for child in values["children"]:
            repository.add(PersonChild(id=uuid.uuid4(), tenant_id=person.tenant_id, person_id=person.id, **child))
    await session.flush()
    for person, values in created:
        await audit.record(
            session,
            action="person.create",
            entity_type=ENTITY_TYPE,
            entity_id=person.id,
            org_unit_code=person.org_unit_code,
            changes=audit.diff(None, {**snapshot(person), "children": values["children"]}, redact=REDACTED_FIELDS),
            reason=reason,
            correlation_id=correlation_id,
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
    await _flush_guarding_resident_id(session)
    await audit.record(
        session,
        action=action,
        entity_type=ENTITY_TYPE,
        entity_id=person.id,
        org_unit_code=person.org_unit_code,
        changes=changes,
        reason=reason,
        correlation_id=correlation_id,
    )
    return changes


async def update_person(session: AsyncSession, principal: Principal, person: Person, body: PersonUpdate) -> Person:
    """Change a record the principal may write (optimistic lock on `version`; 409 with current values)."""
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
        existing_resident_id=_parsed_resident_id(person) if needs_id else None,
    )
    if "spouse_id" in clean:
        problems += await _check_spouse(session, principal, clean["spouse_id"], person.id)
    if problems:
        raise PersonInputRejected(problems)
    await update_from_clean(session, person, clean)
    return person


async def depart_person(session: AsyncSession, principal: Principal, person: Person, body: PersonDepart) -> Person:
    """注销: the person left; the record stays for the registers with status `departed`. The departure date
    and reason are kept in the audit event (the registry has no column for them)."""
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
    await audit.record(
        session,
        action="person.depart",
        entity_type=ENTITY_TYPE,
        entity_id=person.id,
        org_unit_code=person.org_unit_code,
        changes={
            **audit.diff(before, snapshot(person), redact=REDACTED_FIELDS),
            "departed_on": [None, body.departed_on.isoformat()],
        },
        reason=body.reason,
    )
    return person


def _field_value(person: Person, name: str) -> Any:
    if name == "resident_id":
        return person.resident_id_hash
    if name == "phone":
        return person.phone_hash
    return getattr(person, name)


def _copy_field(source: Person, target: Person, name: str) -> None:
    if name == "resident_id":
        target.resident_id_ciphertext, target.resident_id_hash = source.resident_id_ciphertext, source.resident_id_hash
    elif name == "phone":
        target.phone_ciphertext, target.phone_hash = source.phone_ciphertext, source.phone_hash
    else:
        setattr(target, name, getattr(source, name))


def _clear_field(target: Person, name: str) -> None:
    if name == "resident_id":
        target.resident_id_ciphertext = target.resident_id_hash = None
    elif name == "phone":
        target.phone_ciphertext = target.phone_hash = None
    else:
        setattr(target, name, None)


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
    repository = PersonRepository(session)
    target = await repository.get(body.into_id)
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
    moved = [
        name
        for name in MERGE_FILLABLE
        if _field_value(target, name) is None
        and _field_value(source, name) is not None
        and not (name == "spouse_id" and source.spouse_id == target.id)
    ]
    correlation_id = str(uuid.uuid4())
    before_source, before_target = snapshot(source), snapshot(target)
    # The source leaves the ID number's unique index first, so the target may take the number over.
    source.status = PersonStatus.merged
    source.merged_into_id = target.id
    source.updated_at = utc_now()
    await session.flush()
    for name in moved:
        _copy_field(source, target, name)
    if moved:
        target.updated_at = utc_now()
    await _flush_guarding_resident_id(session)
    await audit.record(
        session,
        action="person.merge",
        entity_type=ENTITY_TYPE,
        entity_id=source.id,
        org_unit_code=source.org_unit_code,
        changes={
            **audit.diff(before_source, snapshot(source), redact=REDACTED_FIELDS),
            "moved_to_target": [None, moved],
        },
        reason=body.reason,
        correlation_id=correlation_id,
    )
    await audit.record(
        session,
        action="person.merge",
        entity_type=ENTITY_TYPE,
        entity_id=target.id,
        org_unit_code=target.org_unit_code,
        changes={
            **audit.diff(before_target, snapshot(target), redact=REDACTED_FIELDS),
            "merged_from": [None, str(source.id)],
        },
        reason=body.reason,
        correlation_id=correlation_id,
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
            if name in MERGE_FILLABLE and _field_value(target, name) == _field_value(source, name):
                _clear_field(target, name)
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
    await _flush_guarding_resident_id(session)
    await audit.record(
        session,
        action="person.unmerge",
        entity_type=ENTITY_TYPE,
        entity_id=source.id,
        org_unit_code=source.org_unit_code,
        changes={
            **audit.diff(before_source, snapshot(source), redact=REDACTED_FIELDS),
            "cleared_on_target": [None, cleared],
        },
        reason=body.reason,
        correlation_id=correlation_id,
    )
    if target is not None:
        await audit.record(
            session,
            action="person.unmerge",
            entity_type=ENTITY_TYPE,
            entity_id=target.id,
            org_unit_code=target.org_unit_code,
            changes={
                **audit.diff(before_target, snapshot(target), redact=REDACTED_FIELDS),
                "unmerged": [str(source.id), None],
            },
            reason=body.reason,
            correlation_id=correlation_id,
        )
    return source, target
