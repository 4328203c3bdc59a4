"""Request and response bodies of the person registry (人员登记).

Input bodies only check shape (types, enums, lengths, code formats); the registry's rules (ID number,
division codes, units in reach, phone numbers, children) are checked by the service, which reports every
problem of a body at once.

Identifiers in responses: `resident_id` and `phone` are masked (`110101********1234`, `138****5678`) unless
`identifiers_masked` is false, which only the detail view gives, only to holders of person.read_identifiers on
the person's unit, and only with an audit event.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import Field

from backend.core.input import Code, MultilineText, Omittable, PastDate, Text, UnitCode
from backend.core.schemas import InputSchema, OutputSchema
from backend.models import ContraceptionMeasure, FlowDirection, MaritalStatus, PersonStatus, ReviewState, Sex

# "" from a form is "not given" (the service turns it into None).
DivisionCode = Annotated[str, Code(r"^([0-9]{6}|[0-9]{9}|[0-9]{12})?$", 12)]
PersonName = Annotated[str, Text(50, min_length=1)]
Ethnicity = Annotated[str, Text(20, min_length=1)]
ShortText = Annotated[str, Text(200)]
Notes = Annotated[str, MultilineText(2000)]
Reason = Annotated[str, MultilineText(500, min_length=2)]

SortKey = Literal["name", "-name", "registered", "-registered"]
ImportMode = Literal["all_or_nothing", "valid_rows"]

MAX_CHILDREN = 20


class ChildIn(InputSchema):
    """One child (子女) of the person: birth orders of a list run 1..n without gaps."""

    birth_order: int = Field(ge=1, le=MAX_CHILDREN)
    birth_date: PastDate
    sex: Sex
    name: Annotated[str, Text(50)] | None = None


class ChildRead(OutputSchema):
    birth_order: int
    birth_date: date
    sex: Sex
    name: str | None


class _PersonFields(InputSchema):
    # Optional strings accept "" from forms as "not given"; the service turns "" into None.
    resident_id: Annotated[str, Text(40)] | None = Field(
        default=None, description="18-character resident ID number (居民身份证号码); birth date and sex follow it"
    )
    birth_date: PastDate | None = None
    phone: Annotated[str, Text(30)] | None = Field(
        default=None, description="Mobile (1[3-9] + 9 digits) or landline (area code + 7-8 digits)"
    )
    flow_date: PastDate | None = Field(default=None, description="流入/流出日期: today or earlier")
    registration_division_code: DivisionCode | None = Field(
        default=None, description="户籍地: a division code (6/9/12 digits) or a unit of this county"
    )
    registration_address: ShortText | None = None
    residence_division_code: DivisionCode | None = Field(
        default=None,
        description="现居住地: a unit of this county for inflow and within-county people, a division code otherwise",
    )
    residence_address: ShortText | None = None
    flow_origin_destination: ShortText | None = Field(default=None, description="流出地/流入地 as on the registers")
    landlord_or_employer: ShortText | None = None
    marital_status: MaritalStatus | None = None
    spouse_id: uuid.UUID | None = None
    contraception_measure: ContraceptionMeasure | None = None
    contraception_date: PastDate | None = None
    notes: Notes | None = None


class PersonCreate(_PersonFields):
    """Register a person. A resident ID number already registered in the county updates that record."""

    name: PersonName
    sex: Sex | None = Field(default=None, description="Required when no resident ID number is given")
    ethnicity: Ethnicity = "汉族"
    org_unit_code: UnitCode = Field(
        description="Managing unit: the residence village for inflow, the registration village for outflow"
    )
    flow_direction: FlowDirection
    children: list[ChildIn] = Field(default_factory=list, max_length=MAX_CHILDREN)
    key_subject: bool = False


class PersonUpdate(_PersonFields):
    """Change some fields; `children`, when given, replaces the whole list. `null` clears an optional field; the
    fields every person has (name, sex, ethnicity, unit, direction, children, key subject) refuse null."""

    name: Omittable[PersonName] = None
    sex: Omittable[Sex] = None
    ethnicity: Omittable[Ethnicity] = None
    org_unit_code: Omittable[UnitCode] = None
    flow_direction: Omittable[FlowDirection] = None
    children: Omittable[list[ChildIn]] = Field(default=None, max_length=MAX_CHILDREN)
    key_subject: Omittable[bool] = None
    version: int = Field(description="The version you read; a stale one answers 409 with the current values")


class PersonDepart(InputSchema):
    """注销: the person left the county's care (moved away, returned home for good, died ...)."""

    departed_on: PastDate = Field(description="The day the person left")
    reason: Reason
    version: int | None = Field(default=None, description="The version you read, to refuse a stale departure")


class PersonMerge(InputSchema):
    into_id: uuid.UUID = Field(description="The record that stays")
    reason: Reason


class PersonUnmerge(InputSchema):
    reason: Reason


class PersonRead(OutputSchema):
    id: uuid.UUID
    name: str
    name_pinyin: str
    sex: Sex
    ethnicity: str
    birth_date: date | None
    resident_id: str | None
    phone: str | None
    identifiers_masked: bool = True
    org_unit_code: str
    flow_direction: FlowDirection
    flow_date: date | None
    registration_division_code: str | None
    registration_address: str | None
    residence_division_code: str | None
    residence_address: str | None
    flow_origin_destination: str | None
    landlord_or_employer: str | None
    marital_status: MaritalStatus | None
    spouse_id: uuid.UUID | None
    children: list[ChildRead]
    contraception_measure: ContraceptionMeasure | None
    contraception_date: date | None
    key_subject: bool
    notes: str | None
    status: PersonStatus
    merged_into_id: uuid.UUID | None
    review_state: ReviewState | None = Field(
        description="三级把关: pending / rejected (a registration not counted yet), changes_pending (a change waits "
        "for the township), null (confirmed)"
    )
    created_at: datetime
    updated_at: datetime
    version: int


class PersonRegistrationRead(PersonRead):
    """The answer to a registration: `merged_into_existing` is true when the ID number was already registered
    in the county and that record was updated instead of creating a second one (HTTP 200 instead of 201)."""

    merged_into_existing: bool


class PersonListItem(OutputSchema):
    """A row of the registry list; identifiers always masked."""

    id: uuid.UUID
    name: str
    sex: Sex
    birth_date: date | None
    resident_id: str | None
    phone: str | None
    org_unit_code: str
    flow_direction: FlowDirection
    flow_date: date | None
    status: PersonStatus
    review_state: ReviewState | None
    key_subject: bool
    created_at: datetime


class PersonMergeRead(OutputSchema):
    source: PersonRead
    target: PersonRead


class PersonHistoryEntry(OutputSchema):
    """One audit event of the person: who did what when, with old → new values (identifiers redacted)."""

    occurred_at: datetime
    actor_label: str
    action: str
    changes: dict[str, Any]
    reason: str | None
    correlation_id: str | None


class ImportReport(OutputSchema):
    """What an import did (or, with dry_run, would do). `errors` lists refused rows in valid_rows mode."""

    mode: ImportMode
    dry_run: bool
    rows: int
    created: int
    updated: int
    unchanged: int
    rejected: int
    errors: list[dict[str, Any]]
    import_id: uuid.UUID | None
    # Inflow persons registered (or back) whose registration county was notified (流入登记通报), and those whose
    # registration county is not on the platform (nothing sent; recorded in the audit log).
    notices_sent: int = 0
    notices_not_sent: int = 0
