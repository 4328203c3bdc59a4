"""The statutory gates a human action passes before it reaches the case workflow (法定前置条件).

`request_action` (backend/cases/service.py) calls `check_statutory_gates` for every action, so the API and the
pages refuse at once, in words, what the norm forbids:

- **A written reason** (书面说明理由): closing as deferred (暂缓) or refused (不予办理) needs one, as the workflow
  itself requires (workflows/cases/rules.py): refused here with 422 at `reason` instead of later inside the workflow.
- **P04, the verification before the decision**: a first-child registration is not registered (leaving its
  verification stage, or closed as registered) before both spouses' registration townships were asked
  (backend/verification/gating.py).
- **P04, the notice after the registration**: it is not closed as registered, and does not leave its notifying
  stage (follow_up), before those townships were notified of the registration (same module).
- **P05, who decides a re-birth approval**: 「流动人口申请再生育的,由女方户籍地负责审批」 (seeds-spec P05, [004 篇一
  §六(二)2]). Only a unit of the county where the woman's household is registered approves or refuses one
  (leaving the verification stage, closing as registered or refused, refusing); another county may receive the
  application and hand it on, never decide it.
"""

from __future__ import annotations

from dataclasses import asdict

from sqlalchemy.ext.asyncio import AsyncSession

from backend.cases.errors import (
    InvalidCase,
    NotRegistrationCounty,
    RegistrationNoticeMissing,
    SpouseVerificationMissing,
)
from backend.cases.repository import CaseRepository
from backend.cases.schemas import CaseActionRequest
from backend.core.divisions import county_of
from backend.models import Case, CaseOutcome, CaseStage, Person, Sex
from backend.persons.repository import PersonRepository
from backend.verification.gating import (
    FIRST_CHILD_REGISTRATION,
    SPOUSE_PARTS,
    missing_registration_notices,
    missing_spouse_verifications,
)
from workflows.cases.types import OUTCOMES_NEEDING_REASON, CaseAction

REBIRTH_APPROVAL = "rebirth_approval"
REASON_REQUIRED = "须书面说明理由 / a written reason is required"


def _leaves(case: Case, request: CaseActionRequest, stage: CaseStage) -> bool:
    return request.action == CaseAction.advance and case.stage == stage


def decides_first_child_registration(case: Case, request: CaseActionRequest) -> bool:
    """The register decision of a first-child registration (P04): leaving the verification stage, or closing the
    case as registered."""
    if case.case_type != FIRST_CHILD_REGISTRATION:
        return False
    if request.action == CaseAction.advance:
        return case.stage == CaseStage.verification
    return request.action == CaseAction.close and request.outcome == CaseOutcome.registered


def completes_first_child_registration(case: Case, request: CaseActionRequest) -> bool:
    """What needs the registration townships notified (P04 step 4): closing as registered, or leaving the
    notifying stage."""
    if case.case_type != FIRST_CHILD_REGISTRATION:
        return False
    if request.action == CaseAction.close:
        return request.outcome == CaseOutcome.registered
    return _leaves(case, request, CaseStage.follow_up)


def decides_rebirth_approval(case: Case, request: CaseActionRequest) -> bool:
    """The approval decision of a re-birth approval (P05): approving (leaving the verification stage, closing as
    registered) or refusing (closing as refused, the refuse action)."""
    if case.case_type != REBIRTH_APPROVAL:
        return False
    if request.action == CaseAction.refuse:
        return True
    if request.action == CaseAction.close:
        return request.outcome in (CaseOutcome.registered, CaseOutcome.refused)
    return _leaves(case, request, CaseStage.verification)


async def the_woman(session: AsyncSession, case: Case) -> Person | None:
    """The woman of a couple's case: the female subject taking part as applicant or spouse (any female subject
    but a child when none is marked so)."""
    subjects = await CaseRepository(session).subjects(case.id)
    parts = [subject for subject in subjects if subject.part in SPOUSE_PARTS] or [
        subject for subject in subjects if subject.part != "child"
    ]
    persons = await PersonRepository(session).get_many([subject.person_id for subject in parts])
    order = [subject.person_id for subject in parts]
    return next(
        (person for person in sorted(persons, key=lambda p: order.index(p.id)) if person.sex == Sex.female), None
    )


async def check_registration_county(session: AsyncSession, case: Case) -> None:
    """P05: the case's county must be the woman's registration county; `NotRegistrationCounty` otherwise."""
    woman = await the_woman(session, case)
    here = county_of(case.org_unit_code)
    place = woman.registration_division_code if woman is not None else None
    if woman is None or not place or county_of(place) != here:
        raise NotRegistrationCounty(here, county_of(place) if place else None, woman.name if woman else None)


async def check_statutory_gates(session: AsyncSession, case: Case, request: CaseActionRequest) -> None:
    """Refuse an action the norm forbids in the case's state (see the module's docstring); nothing when it may go
    to the workflow."""
    if (
        request.action == CaseAction.close
        and request.outcome is not None
        and request.outcome.value in OUTCOMES_NEEDING_REASON
        and not (request.reason or "").strip()
    ):
        raise InvalidCase("reason", REASON_REQUIRED)
    if decides_first_child_registration(case, request):
        missing = await missing_spouse_verifications(session, case)
        if missing:
            raise SpouseVerificationMissing([asdict(item) for item in missing])
    if completes_first_child_registration(case, request):
        missing = await missing_registration_notices(session, case)
        if missing:
            raise RegistrationNoticeMissing([asdict(item) for item in missing])
    if decides_rebirth_approval(case, request):
        await check_registration_county(session, case)
