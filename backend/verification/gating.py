"""P04 gates (一孩生育服务登记): a first-child registration is decided only after the verification of both
spouses' marital and childbearing status was asked of their household-registration townships, and it is closed as
registered only once those townships were notified of the registration, within 15 working days of it.

The norm (seeds-spec P04, [004 篇一 §六(二)1]): the residence township 「在7个工作日内通过电话、信函或流动人口计划
生育信息管理系统等形式,向夫妻双方户籍地乡(镇、街道)核实其婚育情况」, and registers 「对证明材料齐全的」. So before
the register decision (advancing out of the verification stage, or closing as registered) each spouse needs a
request (协查) of this case to her or his registration township, on the platform or recorded as sent by letter,
fax or phone; a withdrawn request does not count.

Then 「现居住地乡(镇、街道)自办理一孩生育服务登记之日起,在15个工作日内向流动育龄夫妻户籍地乡(镇、街道)予以通报」: the
case is not closed as registered, nor does it leave the notifying stage (follow_up), until a notice (通报, question
type `first_child_registration`) of this case went to each spouse's registration township, on the platform or
recorded as sent by letter, fax or phone; a withdrawn notice does not count. The notify clock starts on the day of
the registration decision (the moment the case left its verification stage, or was closed as registered); its 15
working days are the type's follow_up deadline rule, so a county's override of that rule changes both.

A spouse whose registration township is the township handling the case is checked locally and needs no notice: the
norm asks the residence township to check *with* (and notify) the registration township, and here they are the same
office, whose own registers are the answer. A request or notice to itself would only put a row in its own inbox. A
spouse whose registration place is unknown blocks the decision: the officer must first complete the person record.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from backend.audit.repository import AuditRepository
from backend.calendar.service import due_date
from backend.case_types.definitions import CaseTypeDefinition
from backend.cases.repository import CaseRepository
from backend.core.clock import china_day, end_of_day
from backend.core.divisions import township_of
from backend.models import Case, CaseStage, Person, QuestionType
from backend.persons.repository import PersonRepository
from backend.verification.repository import VerificationRepository

FIRST_CHILD_REGISTRATION = "first_child_registration"
SPOUSE_PARTS = ("applicant", "spouse")
NOTIFY_WORKING_DAYS = 15
NOTIFY_SOURCE = "自办理一孩生育服务登记之日起15个工作日内向户籍地通报 / notify within 15 WD of the registration"


@dataclass(frozen=True, slots=True)
class MissingVerification:
    person_id: str
    name: str
    registration_division_code: str | None


@dataclass(frozen=True, slots=True)
class NotifyClock:
    """The 15-working-day clock of the notice to the registration townships (P04 step 4): it starts at the
    registration decision; `missing` are the spouses whose township has not been notified yet (none: notified,
    `notified_at` the moment the last needed notice left)."""

    registered_at: datetime
    due_at: datetime
    due_provisional: bool
    working_days: int
    source: str
    missing: list[MissingVerification]
    notified_at: datetime | None

    @property
    def notified_on_time(self) -> bool | None:
        """Whether every needed notice left by the due moment (None while one is still missing)."""
        return None if self.notified_at is None else self.notified_at <= self.due_at


async def _spouses(session: AsyncSession, case: Case) -> list[Person]:
    """The spouses of a first-child registration case: the subjects taking part as applicant or spouse (every
    subject but children when none is marked so), in the case's order."""
    subjects = await CaseRepository(session).subjects(case.id)
    spouse_ids = [subject.person_id for subject in subjects if subject.part in SPOUSE_PARTS]
    if not spouse_ids:
        spouse_ids = [subject.person_id for subject in subjects if subject.part != "child"]
    persons = await PersonRepository(session).get_many(spouse_ids)
    return sorted(persons, key=lambda person: spouse_ids.index(person.id))


def _elsewhere(case: Case, person: Person) -> str | None:
    """The spouse's registration township when it is not the case's own ('' when unknown, None when own)."""
    place = person.registration_division_code
    township = township_of(place) if place else None
    own_township = township_of(case.org_unit_code) or case.org_unit_code
    if township == own_township:
        return None
    return township or ""


def _unreached(case: Case, spouses: list[Person], reached: set[str]) -> list[MissingVerification]:
    """The spouses whose registration township is neither the case's own nor among `reached`."""
    missing = []
    for person in spouses:
        township = _elsewhere(case, person)
        if township is None or township in reached:
            continue
        missing.append(MissingVerification(str(person.id), person.name, person.registration_division_code))
    return missing


async def missing_spouse_verifications(session: AsyncSession, case: Case) -> list[MissingVerification]:
    """The spouses of a first-child registration case whose registration township was not asked (empty when the
    case may be registered)."""
    asked = await VerificationRepository(session).asked_townships(case.id)
    return _unreached(case, await _spouses(session, case), asked)


async def missing_registration_notices(session: AsyncSession, case: Case) -> list[MissingVerification]:
    """The spouses of a first-child registration case whose registration township was not notified of the
    registration (empty when the case may be closed as registered)."""
    sent = await VerificationRepository(session).notices_sent(case.id, QuestionType.first_child_registration)
    return _unreached(case, await _spouses(session, case), set(sent))


async def registered_at(session: AsyncSession, case: Case) -> datetime | None:
    """When the registration was decided: the moment the case left its verification stage (the stage start the
    workflow recorded for the next one) or, if it never did, the moment it was closed as registered. Read from
    the case's audit events, which are its history."""
    for event in await AuditRepository(session).list_for_entity("case", str(case.id)):
        changes = event.changes or {}
        stage = changes.get("stage")
        if event.action == "case.advance" and stage and stage[0] == CaseStage.verification.value:
            started = changes.get("stage_started_at")
            return datetime.fromisoformat(started[1]) if started and started[1] else event.occurred_at
        outcome = changes.get("outcome")
        if event.action == "case.close" and outcome and outcome[1] == "registered":
            closed = changes.get("closed_at")
            return datetime.fromisoformat(closed[1]) if closed and closed[1] else event.occurred_at
    return None


async def notify_clock(session: AsyncSession, case: Case, definition: CaseTypeDefinition) -> NotifyClock | None:
    """The notify clock of a first-child registration once it is registered (None before, and for other types)."""
    if case.case_type != FIRST_CHILD_REGISTRATION:
        return None
    start = await registered_at(session, case)
    if start is None:
        return None
    rule = definition.deadline_for(CaseStage.follow_up)
    working_days = rule.working_days if rule is not None and rule.working_days else NOTIFY_WORKING_DAYS
    due = await due_date(session, china_day(start), working_days)
    spouses = await _spouses(session, case)
    sent = await VerificationRepository(session).notices_sent(case.id, QuestionType.first_child_registration)
    missing = _unreached(case, spouses, set(sent))
    notified_at = None
    if not missing:
        needed = {township for person in spouses if (township := _elsewhere(case, person))}
        notified_at = max((sent[township] for township in needed), default=start)
    return NotifyClock(
        registered_at=start,
        due_at=end_of_day(due.date),
        due_provisional=due.provisional,
        working_days=working_days,
        source=rule.source if rule is not None and rule.source else NOTIFY_SOURCE,
        missing=missing,
        notified_at=notified_at,
    )
