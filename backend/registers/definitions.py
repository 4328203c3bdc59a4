"""The five registers, each declared once: its query, how a database row becomes an entry, and its columns.

A column is (key, Chinese header, getter, width). The page view, the CSV file and the XLSX file all render these
same columns (backend/registers/rendering.py), so adding a column to a register is one line here. Every
register starts with 序号 (the row number), added by the renderer.

Identifier cells (身份证号, 联系电话) come pre-decided on the entry (`Identifiers`): in full when the caller may
read identifiers over every unit the row belongs to, masked otherwise (backend/registers/service.py).

Case details read by the check register (孕情环情检查登记簿), from `cases.details` of type
`pregnancy_check_round`:
- `round`      检查轮次, shown as written (e.g. 1, "2026年第1轮");
- `checked_on` 检查日期, an ISO date (YYYY-MM-DD); anything else is shown as written;
- `result`     结果, shown as written (free text such as "未孕，环情正常").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any, Generic, TypeVar

from backend.authz.vocabulary import Action
from backend.core.clock import china_day
from backend.core.divisions import county_of
from backend.core.spreadsheets import Cell
from backend.models import Case, Certificate, FlowDirection, MaritalStatus, Person
from backend.persons.divisions import division_name
from backend.registers import labels
from backend.registers.repository import RegisterFilter, RegisterRepository, RegisterRow, RegisterSelect


@dataclass(frozen=True, slots=True)
class Identifiers:
    """A row's ID and phone numbers as they may be shown to this caller; `in_full` when any is unmasked."""

    resident_id: str | None = None
    phone: str | None = None
    in_full: bool = False


@dataclass(frozen=True, slots=True)
class EntryContext:
    """What turning rows into entries needs besides the row: the reference date for ages (the period's end,
    or today), org unit names, and the per-row identifier decision."""

    as_of: date
    unit_names: dict[str, str]
    identifiers: Callable[[Person | None, tuple[str, ...], bool], Identifiers]

    def unit_name(self, code: str) -> str:
        return self.unit_names.get(code, code)


@dataclass(frozen=True, slots=True)
class Entry:
    """One register row before rendering. `unit_code` is the unit the row is filed under."""

    unit_code: str
    ids: Identifiers


@dataclass(frozen=True, slots=True)
class PersonEntry(Entry):
    person: Person
    children: int
    certificate: Certificate | None
    last_inspected_on: date | None
    unit_name: str
    as_of: date


@dataclass(frozen=True, slots=True)
class CertificateEntry(Entry):
    certificate: Certificate
    holder: Person
    renews_number: str | None


@dataclass(frozen=True, slots=True)
class CaseEntry(Entry):
    case: Case
    person: Person | None
    others: tuple[tuple[str, str], ...]  # (part, name) of the subjects besides the primary one
    unit_name: str


E = TypeVar("E", bound=Entry)
# A register's rows: the statement its repository builds for a filter.
Query = Callable[[RegisterRepository, RegisterFilter], RegisterSelect]


@dataclass(frozen=True, slots=True)
class Column(Generic[E]):
    key: str
    header: str
    value: Callable[[E], Cell]
    width: int = 12


@dataclass(frozen=True, slots=True)
class Register(Generic[E]):
    """A register: what it is called, who may see its rows, its query, its entries and its columns.

    `read_actions` are the permissions every row needs (the caller's reach for each is intersected in SQL);
    `entity_type` names the rows in audit events.
    """

    code: str
    title: str
    entity_type: str
    read_actions: tuple[Action, ...]
    query: Query
    entry: Callable[[RegisterRow, EntryContext], E]
    columns: tuple[Column[E], ...]

    def cells(self, entry: E) -> list[Cell]:
        return [column.value(entry) for column in self.columns]


# --- cell helpers ---------------------------------------------------------------------------------------------


def age_on(birth_date: date | None, day: date) -> int | None:
    """Full years of age on `day` (None when the birth date is unknown or after `day`)."""
    if birth_date is None or birth_date > day:
        return None
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


def _joined(*parts: str | None) -> str:
    return "".join(part for part in parts if part)


def _division(code: str | None) -> str | None:
    return division_name(county_of(code)) if code and len(code) >= 6 else None


def marital_text(status: MaritalStatus | None, children: int) -> str:
    """婚育状况: the marital status and the number of children, e.g. 初婚，1孩."""
    if status is None:
        return f"{children}孩" if children else ""
    return f"{labels.MARITAL_STATUS[status]}，{children}孩"


def _validity(certificate: Certificate | None) -> Cell:
    if certificate is None:
        return None
    return labels.PERMANENT if certificate.permanent else certificate.valid_until


def _detail(case: Case, key: str) -> str | None:
    value = case.details.get(key) if isinstance(case.details, dict) else None
    return None if value is None or value == "" else str(value)


def _detail_date(case: Case, key: str) -> Cell:
    text = _detail(case, key)
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return text


def _local_date(case_time: Any) -> date | None:
    return china_day(case_time) if case_time is not None else None


def _others(entry: CaseEntry) -> str:
    return "、".join(f"{name}（{labels.SUBJECT_PART.get(part, part)}）" for part, name in entry.others)


# --- entries ----------------------------------------------------------------------------------------------------


def person_entry(row: RegisterRow, context: EntryContext) -> PersonEntry:
    person: Person = row[0]
    return PersonEntry(
        unit_code=person.org_unit_code,
        ids=context.identifiers(person, (person.org_unit_code,), True),
        person=person,
        children=int(row[1] or 0),
        certificate=row[2],
        last_inspected_on=row[3],
        unit_name=context.unit_name(person.org_unit_code),
        as_of=context.as_of,
    )


def certificate_entry(row: RegisterRow, context: EntryContext) -> CertificateEntry:
    certificate: Certificate = row[0]
    holder: Person = row[1]
    return CertificateEntry(
        unit_code=certificate.org_unit_code,
        # The number belongs to the holder: full only where the caller may see identifiers of both the
        # unit keeping the certificate and the holder's own unit.
        ids=context.identifiers(holder, (certificate.org_unit_code, holder.org_unit_code), False),
        certificate=certificate,
        holder=holder,
        renews_number=row[2],
    )


def case_entry(row: RegisterRow, context: EntryContext) -> CaseEntry:
    case: Case = row[0]
    person: Person | None = row[1]
    units = (case.org_unit_code,) if person is None else (case.org_unit_code, person.org_unit_code)
    # "part:name" strings from the query; part codes never contain a colon.
    others = tuple((item.partition(":")[0], item.partition(":")[2]) for item in row[2] or ())
    return CaseEntry(
        unit_code=case.org_unit_code,
        ids=context.identifiers(person, units, False),
        case=case,
        person=person,
        others=others,
        unit_name=context.unit_name(case.org_unit_code),
    )


# --- the registers ----------------------------------------------------------------------------------------------

_PERSON_READ = (Action.person_read,)
_CASE_READ = (Action.person_read, Action.case_read)

P = PersonEntry

_PERSON_HEAD: tuple[Column[P], ...] = (
    Column("name", "姓名", lambda e: e.person.name, 10),
    Column("sex", "性别", lambda e: labels.SEX[e.person.sex], 6),
    Column("birth_date", "出生日期", lambda e: e.person.birth_date, 12),
    Column("age", "年龄", lambda e: age_on(e.person.birth_date, e.as_of), 6),
    Column("resident_id", "身份证号", lambda e: e.ids.resident_id, 21),
    Column("marital_status", "婚育状况", lambda e: marital_text(e.person.marital_status, e.children), 12),
)


def _persons_register(code: str, title: str, direction: FlowDirection, *columns: Column[P]) -> Register[P]:
    """A register of the inflow or outflow persons: who they are, then `columns`."""

    def query(repository: RegisterRepository, register_filter: RegisterFilter) -> RegisterSelect:
        return repository.persons(direction, register_filter)

    return Register(code, title, "person", _PERSON_READ, query, person_entry, (*_PERSON_HEAD, *columns))


INFLOW: Register[P] = _persons_register(
    "inflow",
    "流入人口信息登记簿",
    FlowDirection.inflow,
    Column("flow_date", "流入时间", lambda e: e.person.flow_date, 12),
    Column(
        "registration_place",
        "户籍地",
        lambda e: _joined(_division(e.person.registration_division_code), e.person.registration_address),
        28,
    ),
    Column("residence", "现居住地", lambda e: _joined(e.unit_name, e.person.residence_address), 28),
    Column("landlord_or_employer", "房东或用工单位", lambda e: e.person.landlord_or_employer, 20),
    Column("certificate_number", "婚育证明编号", lambda e: e.certificate.number if e.certificate else None, 18),
    Column("certificate_issue_date", "持证时间", lambda e: e.certificate.issue_date if e.certificate else None, 12),
    Column("last_inspected_on", "最近查验日期", lambda e: e.last_inspected_on, 12),
    Column("phone", "联系电话", lambda e: e.ids.phone, 16),
    Column("status", "状态", lambda e: labels.PERSON_STATUS[e.person.status], 8),
    Column("notes", "备注", lambda e: e.person.notes, 24),
)

OUTFLOW: Register[P] = _persons_register(
    "outflow",
    "流出人口信息登记簿",
    FlowDirection.outflow,
    Column("registration_place", "户籍地", lambda e: _joined(e.unit_name, e.person.registration_address), 28),
    Column("flow_date", "流出时间", lambda e: e.person.flow_date, 12),
    Column(
        "destination",
        "流出地",
        lambda e: e.person.flow_origin_destination or _division(e.person.residence_division_code),
        20,
    ),
    Column(
        "destination_address",
        "现居住详细地址",
        lambda e: _joined(_division(e.person.residence_division_code), e.person.residence_address),
        28,
    ),
    Column("phone", "联系电话", lambda e: e.ids.phone, 16),
    Column("landlord_or_employer", "务工单位或房东", lambda e: e.person.landlord_or_employer, 20),
    Column("certificate_issue_date", "办证时间", lambda e: e.certificate.issue_date if e.certificate else None, 12),
    Column("certificate_number", "婚育证明编号", lambda e: e.certificate.number if e.certificate else None, 18),
    Column("certificate_valid_until", "证明有效期至", lambda e: _validity(e.certificate), 12),
    Column(
        "contraception",
        "避孕措施",
        lambda e: labels.CONTRACEPTION[e.person.contraception_measure] if e.person.contraception_measure else None,
        10,
    ),
    Column("contraception_date", "落实时间", lambda e: e.person.contraception_date, 12),
    Column("status", "状态", lambda e: labels.PERSON_STATUS[e.person.status], 8),
    Column("notes", "备注", lambda e: e.person.notes, 24),
)

C = CertificateEntry

CERTIFICATES: Register[C] = Register(
    code="certificates",
    title="婚育证明登记表",
    entity_type="certificate",
    read_actions=_PERSON_READ,
    query=lambda repository, register_filter: repository.certificates(register_filter),
    entry=certificate_entry,
    columns=(
        Column("number", "证明编号", lambda e: e.certificate.number, 18),
        Column("holder", "持证人", lambda e: e.holder.name, 10),
        Column("resident_id", "身份证号", lambda e: e.ids.resident_id, 21),
        Column("issue_date", "发证日期", lambda e: e.certificate.issue_date, 12),
        Column("valid_until", "有效期至", lambda e: _validity(e.certificate), 12),
        Column("issuing_unit", "发证单位", lambda e: e.certificate.issuing_unit_name, 20),
        Column("by_proxy", "代办", lambda e: labels.YES if e.certificate.issued_by_proxy else labels.NO, 6),
        Column("proxy_name", "代办人", lambda e: e.certificate.proxy_name, 10),
        Column("renews", "换领（原证明编号）", lambda e: e.renews_number, 18),
        Column("status", "状态", lambda e: labels.CERTIFICATE_STATUS[e.certificate.status], 8),
    ),
)

K = CaseEntry


def _cases_register(code: str, title: str, case_type: str, *columns: Column[K]) -> Register[K]:
    """A register of the cases of one type."""

    def query(repository: RegisterRepository, register_filter: RegisterFilter) -> RegisterSelect:
        return repository.cases(case_type, register_filter)

    return Register(code, title, "case", _CASE_READ, query, case_entry, columns)


CHECKS: Register[K] = _cases_register(
    "checks",
    "流入已婚育龄妇女孕情、环情检查登记簿",
    "pregnancy_check_round",
    Column("name", "姓名", lambda e: e.person.name if e.person else e.case.subject_name, 10),
    Column("resident_id", "身份证号", lambda e: e.ids.resident_id, 21),
    Column("round", "检查轮次", lambda e: _detail(e.case, "round"), 10),
    Column("checked_on", "检查日期", lambda e: _detail_date(e.case, "checked_on"), 12),
    Column("result", "结果", lambda e: _detail(e.case, "result"), 20),
    Column("unit", "登记单位", lambda e: e.unit_name, 16),
)

FIRST_CHILD: Register[K] = _cases_register(
    "first-child",
    "一孩生育服务登记表",
    "first_child_registration",
    Column("number", "登记编号", lambda e: e.case.number, 20),
    Column("applicant", "申请人", lambda e: e.case.subject_name or (e.person.name if e.person else None), 10),
    Column("other_subjects", "配偶及其他当事人", _others, 18),
    Column("resident_id", "申请人身份证号", lambda e: e.ids.resident_id, 21),
    Column("received_on", "受理时间", lambda e: _local_date(e.case.received_at), 12),
    Column("stage", "当前阶段", lambda e: labels.CASE_STAGE[e.case.stage], 10),
    Column("outcome", "结果", lambda e: labels.CASE_OUTCOME[e.case.outcome] if e.case.outcome else None, 12),
    Column("outcome_reason", "理由", lambda e: e.case.outcome_reason, 24),
    Column("closed_on", "办结时间", lambda e: _local_date(e.case.closed_at), 12),
)

REGISTERS: dict[str, Register[Any]] = {
    register.code: register for register in (INFLOW, OUTFLOW, CERTIFICATES, CHECKS, FIRST_CHILD)
}
