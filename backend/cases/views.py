"""Reading cases: the one case view (the API's answer and the case page are both built from it), the queues' search
terms, the workload and dashboard counts, and the triage list of department notifications.

Each function reads through the cases repository (tenant and subtree scoping live there) and writes nothing but
the break-glass audit of a list a caller could only see through an emergency grant.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession

from backend.authz.principal import Principal
from backend.authz.service import audit_break_glass_listing
from backend.authz.vocabulary import ROLE_TEMPLATES, Action
from backend.calendar.service import load_calendar
from backend.case_types.schemas import SignoffStepRead
from backend.case_types.service import effective_case_type
from backend.case_types.types import SignoffStep
from backend.cases.deadlines import build_plan
from backend.cases.errors import InvalidCase
from backend.cases.repository import CaseFilters, CaseRepository
from backend.cases.schemas import (
    CaseAlertRead,
    CaseLinkRead,
    CaseRead,
    CaseSubjectRead,
    MissingNoticeRead,
    NotifyClockRead,
    SignoffRead,
)
from backend.core.clock import utc_now
from backend.core.errors import DomainError
from backend.core.outbox import get_message
from backend.identity.repository import IdentityRepository
from backend.models import Case, CaseAlert, CaseLink, CaseSignoff, CaseStage, CaseSubject, IntakeTriage, User
from backend.persons import service as persons
from backend.persons.names import name_search_keys
from backend.persons.resident_id import normalise_resident_id
from backend.persons.schemas import PersonRead
from backend.verification.gating import NotifyClock, notify_clock
from workflows.cases.rules import effective_time, refusal
from workflows.cases.types import ActorRef, CaseAction, CaseActionInput, CaseActionResult

DUE_SOON = timedelta(days=3)
_HAN = re.compile(r"[\u3400-\u9fff]")


@dataclass(frozen=True, slots=True)
class CaseView:
    """A case as the API answers it and the case page shows it: the row, its subjects, the cases linked to it
    and the deadline alerts raised on it."""

    case: Case
    subjects: list[CaseSubject]
    links: list[CaseLink]
    alerts: list[CaseAlert]
    notify_clock: NotifyClock | None = None
    signoffs: tuple[CaseSignoff, ...] = ()
    pending_step: SignoffStep | None = None

    def read(self) -> CaseRead:
        """The API's answer."""
        read = CaseRead.model_validate(self.case)
        read.subjects = [CaseSubjectRead.model_validate(subject) for subject in self.subjects]
        read.links = [CaseLinkRead.model_validate(link) for link in self.links]
        read.alerts = [CaseAlertRead.model_validate(alert) for alert in self.alerts]
        read.signoffs = [SignoffRead.model_validate(signoff) for signoff in self.signoffs]
        if self.pending_step is not None:
            read.pending_step = SignoffStepRead.of(self.pending_step)
        if self.notify_clock is not None:
            clock = self.notify_clock
            read.notify_clock = NotifyClockRead(
                **{name: getattr(clock, name) for name in NOTIFY_FIELDS},
                missing=[MissingNoticeRead.model_validate(asdict(item)) for item in clock.missing],
                notified_on_time=clock.notified_on_time,
            )
        return read


NOTIFY_FIELDS = ("registered_at", "due_at", "due_provisional", "working_days", "source", "notified_at")


async def case_view(session: AsyncSession, case: Case) -> CaseView:
    """The view of a case the caller already reached (`service.get_case`)."""
    repository = CaseRepository(session)
    definition = await effective_case_type(session, case.case_type)
    signoffs = await repository.signoffs(case.id) if definition.signoffs else []
    pending = (
        definition.pending_step(case.stage, {signoff.step for signoff in signoffs})
        if case.stage != CaseStage.closed
        else None
    )
    return CaseView(
        case,
        await repository.subjects(case.id),
        await repository.links(case.id),
        await repository.alerts(case.id),
        await notify_clock(session, case, definition),
        tuple(signoffs),
        pending,
    )


async def opened_case_view(session: AsyncSession, case: Case, *, with_subjects: bool) -> CaseView:
    """The view of a case this transaction just opened: no link or alert can exist yet, and its subjects are read
    only when it was given any (the answer to POST /cases without three reads of empty tables)."""
    subjects = await CaseRepository(session).subjects(case.id) if with_subjects else []
    return CaseView(case, subjects, [], [])


async def readable_subjects(
    session: AsyncSession, principal: Principal, view: CaseView
) -> list[tuple[str, PersonRead]]:
    """(part, person) of the case's subjects the caller may read; a subject outside her reach is left out."""
    people: list[tuple[str, PersonRead]] = []
    for subject in view.subjects:
        try:
            person = await persons.person_in_reach(session, principal, subject.person_id, Action.person_read)
        except DomainError:
            continue
        people.append((subject.part, await persons.person_read(session, principal, person)))
    return people


# The roles that work cases (hold case.write): an administrator or an auditor is never offered a case.
WORKER_ROLES = tuple(role.value for role, actions in ROLE_TEMPLATES.items() if Action.case_write in actions)


def _unit_and_above(code: str) -> list[str]:
    """The unit and the units above it (county, township, village codes are each other's prefixes)."""
    return [code[:length] for length in (6, 9, 12) if len(code) >= length]


async def assignees_for_case(session: AsyncSession, case: Case) -> list[User]:
    """The active users who could be given the case: those holding a role that works cases on its unit or above
    it, by username. (The service checks again when the case is assigned.)"""
    return await IdentityRepository(session).users_holding(WORKER_ROLES, _unit_and_above(case.org_unit_code))


async def assignees_under(session: AsyncSession, roots: list[str]) -> list[User]:
    """Whom a supervisor's bulk reassignment may go to: the active users holding a role that works cases on a unit
    under one of `roots` (where she assigns) or above one; each case is checked against the assignee."""
    above = sorted({unit for root in roots for unit in _unit_and_above(root)})
    return await IdentityRepository(session).users_holding(WORKER_ROLES, above, roots)


# --- human actions: what the page offers, and what became of one ---------------------------------------------


async def offered_actions(session: AsyncSession, principal: Principal, case: Case) -> list[CaseAction]:
    """The human actions the case accepts now from the caller, by the case workflow's own rules
    (workflows/cases/rules.py) applied to the case as stored: the page never offers what the workflow would refuse
    (no 提交本阶段 at the last stage, no 补正 once overdue, 延期 to supervisors only, once)."""
    if case.stage == CaseStage.closed or not principal.can(Action.case_write, case.org_unit_code):
        return []
    definition = await effective_case_type(session, case.case_type)
    plan = build_plan(case, definition, await load_calendar(session))
    now = utc_now()
    actor = ActorRef(kind=principal.kind, id=principal.id, label=principal.label)
    offered = []
    for action in CaseAction:
        if action is CaseAction.extend and not principal.can(Action.case_assign, case.org_unit_code):
            continue
        # The form asks for the reason and the outcome: the probe supplies them, only the case's state is checked.
        probe = CaseActionInput(
            request_id="offer", action=action, actor=actor, requested_at=now, reason="-", outcome="completed"
        )
        if refusal(plan, probe, effective_time(plan, probe, now)) is None:
            offered.append(action)
    return offered


@dataclass(frozen=True, slots=True)
class ActionOutcome:
    """What became of a requested action: still `pending`, `done` (the case's stage and due date after it), or
    `rejected` by the workflow (its reason, "中文 / English")."""

    status: Literal["pending", "done", "rejected"]
    stage: str | None = None
    due_at: datetime | None = None
    reason: str | None = None
    result: dict[str, Any] | None = None


async def action_outcome(session: AsyncSession, case: Case, request_id: uuid.UUID) -> ActionOutcome | None:
    """The outcome of an action requested on `case` (None when no such request was made on it)."""
    message = await get_message(session, request_id)
    if message is None or message.payload.get("case_id") != str(case.id):
        return None
    if message.processed_at is None:
        return ActionOutcome("pending")
    result = message.result or {}
    if "rejected" in result:
        return ActionOutcome("rejected", reason=str(result["rejected"]), result=result)
    decided = CaseActionResult.model_validate(result)
    return ActionOutcome("done", stage=decided.stage, due_at=decided.due_at, result=result)


# --- the queues ----------------------------------------------------------------------------------------------


def name_terms(text: str) -> tuple[str | None, str | None]:
    """(characters, pinyin) to search the subjects' names by: text with Chinese characters as typed, letters as
    pinyin (拼音, spaces and tones dropped), anything else as typed (`%` finds a percent sign, never every case)."""
    if _HAN.search(text):
        return text.strip(), None
    pinyin = name_search_keys(text).pinyin
    return (None, pinyin) if pinyin else (text.strip() or None, None)


def assignee_terms(principal: Principal, assignee: str | None) -> tuple[uuid.UUID | None, bool]:
    """(assignee, unassigned only) from a queue's `assignee` parameter: a user id, `me` or `none` (a client's `me`
    is nobody)."""
    if assignee in (None, "none"):
        return None, assignee == "none"
    if assignee == "me":
        return (uuid.UUID(principal.id) if principal.kind == "user" else uuid.UUID(int=0)), False
    try:
        return uuid.UUID(assignee), False
    except ValueError:
        raise InvalidCase("assignee", "应为用户标识、me 或 none / expected a user id, me or none") from None


def resident_id_hash(raw: str) -> str:
    """The lookup digest of an ID number as typed (full-width digits, spaces, a lower-case x)."""
    return persons.resident_id_digest(normalise_resident_id(raw))


async def list_cases(
    session: AsyncSession, principal: Principal, filters: CaseFilters, *, offset: int, limit: int
) -> tuple[list[Case], int]:
    """One page of the cases matching `filters` (whose roots are the caller's reach) and the total count; a page
    seen only through a break-glass grant is audited."""
    cases, total = await CaseRepository(session).search(filters, offset=offset, limit=limit)
    await audit_break_glass_listing(
        session, principal, Action.case_read, entity_type="case", unit_codes={case.org_unit_code for case in cases}
    )
    return cases, total


async def workload(session: AsyncSession, principal: Principal) -> list[tuple[uuid.UUID | None, int, int, int]]:
    """(assignee, open, overdue, due within three days) of the open cases the caller may assign."""
    now = utc_now()
    return await CaseRepository(session).workload(principal.scopes_for(Action.case_assign), now, now + DUE_SOON)


async def unit_counts(session: AsyncSession, principal: Principal, now: datetime) -> list[tuple[str, int, int, int]]:
    """The dashboard's figures, per unit, of the open cases the caller may read: (unit, open, overdue, due soon).
    (Her own open cases are the to-do list's `case` kind: backend/todo/.)"""
    return await CaseRepository(session).counts_by_unit(principal.scopes_for(Action.case_read), now + DUE_SOON)


async def triage_cases(
    session: AsyncSession, principal: Principal, *, open_only: bool, offset: int, limit: int
) -> tuple[list[tuple[IntakeTriage, Case]], int]:
    """One page of the triage cases (部门通报核实) the caller may read, newest first, each with the county's copy of
    its department notification, and the total count."""
    return await CaseRepository(session).triage_page(
        principal.scopes_for(Action.case_read), open_only=open_only, offset=offset, limit=limit
    )
