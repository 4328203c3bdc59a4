"""Checking a person's fields (人员信息校验) before the registry writes them: one pass that finds every bad field.

What the rules are:
- Names, ethnicity and identifiers are normalised (full-width forms, spaces); the name gets its pinyin search keys.
- A resident ID number is checked (GB 11643) and decides birth date and sex, which must not contradict it.
- The managing unit must be an active unit of this county within the caller's reach (person.write); places
  (registration, residence) are known divisions, and an inflow or within-county person lives in this county.
- Dates are judged by the China calendar date (UTC+8), since a county's day starts at local midnight.
The API, the pages and the spreadsheet import all validate through `check_person_fields`, each giving the
location of a problem its own way (`loc`).
"""

from __future__ import annotations

import unicodedata
import uuid
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import Enum
from typing import Any, cast

from sqlalchemy.ext.asyncio import AsyncSession

from backend.authz.principal import Principal
from backend.authz.vocabulary import Action
from backend.core.clock import china_today
from backend.core.divisions import county_of
from backend.core.errors import FieldError
from backend.models import FlowDirection, OrgUnit, Person, Sex
from backend.org.repository import OrgUnitRepository
from backend.persons.divisions import is_known_division
from backend.persons.errors import InvalidResidentId, Loc
from backend.persons.identifiers import normalise_phone
from backend.persons.names import name_search_keys
from backend.persons.repository import PersonRepository
from backend.persons.resident_id import ResidentId, check_consistency, parse_resident_id
from backend.persons.resident_id import Sex as IdSex
from backend.tenants.repository import TenantRepository

# Fields a record may not be without: an update may leave them out but not set them to null.
NOT_NULL = ("name", "sex", "ethnicity", "org_unit_code", "flow_direction", "key_subject")
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
RESIDENT_IN_COUNTY = (FlowDirection.inflow, FlowDirection.within_county)

LocFor = Callable[..., Loc]


def body_loc(*parts: str | int) -> Loc:
    """Where a field of a JSON body is: `("body", "resident_id")`, `("body", "children", 0, "birth_date")`."""
    return ("body", *parts)


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


def problem(problems: list[FieldError], loc: Loc, zh: str, en: str) -> None:
    """Add a bilingual problem at `loc` (Chinese, then English)."""
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

    for name in NOT_NULL:
        if name in values and values[name] is None and (existing is not None or name != "sex"):
            problem(problems, loc(name), "不能为空", "must not be empty")
    # The API's schemas limit lengths already; imported cells arrive unchecked.
    for name, limit in _MAX_LENGTHS.items():
        if isinstance(values.get(name), str) and len(values[name]) > limit:
            problem(problems, loc(name), f"超过{limit}个字符", f"longer than {limit} characters")
            values.pop(name)

    if values.get("name") is not None:
        keys = name_search_keys(values["name"])
        if keys.script == "empty":
            problem(problems, loc("name"), "姓名应包含汉字或字母", "the name must contain characters or letters")
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
                problem(problems, loc("birth_date"), "出生日期不能晚于今天", "the birth date is in the future")
            elif entered_birth_date is not None and entered_birth_date < date(1900, 1, 1):
                problem(problems, loc("birth_date"), "出生日期不能早于1900年", "the birth date is before 1900")
            else:
                clean["birth_date"] = entered_birth_date
        if entered_sex is not None:
            clean["sex"] = entered_sex

    if "phone" in values:
        if values["phone"] is None:
            clean["phone"] = None
        elif (phone := normalise_phone(values["phone"])) is None:
            problem(
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
            problem(
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
            problem(
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
        if code is not None and direction in RESIDENT_IN_COUNTY and not _is_active_unit(code, rules.units):
            problem(
                problems,
                loc("residence_division_code"),
                "流入或县内流动人员的现居住地应为本县在用的村（居）或乡镇（街道）",
                "for inflow and within-county people the residence must be an active unit of this county",
            )
        elif code is not None and not _is_known_place(code, rules):
            problem(
                problems,
                loc("residence_division_code"),
                f"现居住地区划代码{code}不是已知的行政区划",
                f"the residence division code {code} is not a known division",
            )
        else:
            clean["residence_division_code"] = code

    if values.get("contraception_date") is not None and values["contraception_date"] > today:
        problem(problems, loc("contraception_date"), "措施日期不能晚于今天", "the measure date is in the future")
    elif "contraception_date" in values:
        clean["contraception_date"] = values["contraception_date"]

    for name in _OPTIONAL_TEXT:
        if name in values:
            clean[name] = values[name]
    for name in _PASS_THROUGH:
        # Fields that may not be null were refused above when null; the others may be cleared.
        if name in values and (values[name] is not None or name not in NOT_NULL):
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
        problem(
            problems,
            loc("children"),
            "子女孩次应从1开始连续编号且不重复",
            "birth orders must run 1, 2, ... n without gaps or repeats",
        )
    clean: list[dict[str, Any]] = []
    for index, child in enumerate(children):
        if child["birth_date"] > today:
            problem(problems, loc("children", index, "birth_date"), "出生日期不能晚于今天", "in the future")
        elif parent_birth_date is not None and child["birth_date"] <= parent_birth_date:
            problem(
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


async def check_spouse(
    session: AsyncSession, principal: Principal, spouse_id: uuid.UUID | None, self_id: uuid.UUID | None
) -> list[FieldError]:
    """A spouse must be another unmerged person of this county whom the caller may read."""
    if spouse_id is None:
        return []
    spouse = await PersonRepository(session).readable_person(spouse_id, principal.scopes_for(Action.person_read))
    if spouse is None or spouse.id == self_id:
        return [FieldError(body_loc("spouse_id"), "配偶记录不存在或无权查看 / no such person within your reach")]
    return []


# Fields the registry can check as plain text when a form as a whole did not parse.
TEXT_CHECKED = ("name", "resident_id", "phone", "org_unit_code", "registration_division_code")


async def check_text_fields(
    session: AsyncSession, principal: Principal, given: Mapping[str, Any], *, refused: Collection[str] = ()
) -> list[FieldError]:
    """The registry's own problems with the text fields among `given`, leaving out the `refused` ones: a form that
    did not parse as a whole still shows every problem at once."""
    checkable = {name: given[name] for name in TEXT_CHECKED if name in given and name not in refused}
    _, problems = check_person_fields(checkable, rules=await load_rules(session, principal))
    return problems
