"""P04 gate (一孩生育服务登记): a first-child registration is decided only after the verification of both
spouses' marital and childbearing status was asked of their household-registration townships.

The norm (seeds-spec P04, [004 篇一 §六(二)1]): the residence township 「在7个工作日内通过电话、信函或流动人口计划
生育信息管理系统等形式,向夫妻双方户籍地乡(镇、街道)核实其婚育情况」, and registers 「对证明材料齐全的」. So before
the register decision (advancing out of the verification stage, or closing as registered) each spouse needs a
request (协查) of this case to her or his registration township, on the platform or recorded as sent by letter,
fax or phone; a withdrawn request does not count.

A spouse whose registration township is the township handling the case is checked locally: the norm asks the
residence township to check *with* the registration township, and here they are the same office, whose own
registers (the outflow register, the status certificates it issued) are the answer. A request to itself would
only put a row in its own inbox. A spouse whose registration place is unknown blocks the decision: the officer
must first complete the person record.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from backend.cases.repository import CaseRepository
from backend.core.divisions import township_of
from backend.models import Case
from backend.persons.repository import PersonRepository
from backend.verification.repository import VerificationRepository

FIRST_CHILD_REGISTRATION = "first_child_registration"
SPOUSE_PARTS = ("applicant", "spouse")


@dataclass(frozen=True, slots=True)
class MissingVerification:
    person_id: str
    name: str
    registration_division_code: str | None


async def missing_spouse_verifications(session: AsyncSession, case: Case) -> list[MissingVerification]:
    """The spouses of a first-child registration case whose registration township was not asked (empty when the
    case may be registered). Spouses are the subjects taking part as applicant or spouse."""
    subjects = await CaseRepository(session).subjects(case.id)
    spouse_ids = [subject.person_id for subject in subjects if subject.part in SPOUSE_PARTS]
    if not spouse_ids:
        spouse_ids = [subject.person_id for subject in subjects if subject.part != "child"]
    persons = await PersonRepository(session).get_many(spouse_ids)
    asked = await VerificationRepository(session).asked_townships(case.id)
    own_township = township_of(case.org_unit_code) or case.org_unit_code
    missing = []
    for person in sorted(persons, key=lambda p: spouse_ids.index(p.id)):
        place = person.registration_division_code
        township = township_of(place) if place else None
        if township is not None and (township == own_township or township in asked):
            continue
        missing.append(MissingVerification(str(person.id), person.name, place))
    return missing
