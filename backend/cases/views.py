"""Reading cases: the one case view (the API's answer and the case page are both built from it), the queues' search
terms, the workload and dashboard counts, and the triage list of department notifications.

Each function reads through the cases repository (tenant and subtree scoping live there) and writes nothing but
the break-glass audit of a list a caller could only see through an emergency grant.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from backend.authz.principal import Principal
from backend.authz.service import audit_break_glass_listing
from backend.authz.vocabulary import Action
from backend.case_types.schemas import SignoffStepRead
from backend.case_types.service import effective_case_type
from backend.case_types.types import SignoffStep
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
from backend.models import Case, CaseAlert, CaseLink, CaseSignoff, CaseStage, CaseSubject, IntakeTriage, User
from backend.persons import service as persons
from backend.persons.names import name_search_keys
from backend.persons.resident_id import normalise_resident_id
from backend.persons.schemas import PersonRead
from backend.verification.gating import NotifyClock, notify_clock

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


def assignees_for_case(users: Iterable[User], case: Case) -> list[User]:
    """The active users who could be given the case: those placed on its branch of the org tree (its unit or a unit
    above it), by username. The service checks the grant when the case is assigned."""
    placed = [user for user in users if user.active and case.org_unit_code.startswith(user.org_unit_code)]
    return sorted(placed, key=lambda user: user.username)


def assignees_under(users: Iterable[User], roots: list[str]) -> list[User]:
    """The active users placed under one of `roots` (where a supervisor assigns), by username: whom a bulk
    reassignment may go to."""
    placed = [user for user in users if user.active and any(user.org_unit_code.startswith(root) for root in roots)]
    return sorted(placed, key=lambda user: user.username)


# --- the queues ----------------------------------------------------------------------------------------------


def name_terms(text: str) -> tuple[str | None, str | None]:
    """(characters, pinyin) to search the subjects' names by: text with Chinese characters as typed, anything else
    as pinyin (拼音, spaces and tones dropped)."""
    if _HAN.search(text):
        return text.strip(), None
    return None, name_search_keys(text).pinyin or None


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


async def unit_counts(
    session: AsyncSession, principal: Principal, now: datetime
) -> tuple[list[tuple[str, int, int, int]], list[tuple[str, int, int, int]]]:
    """The dashboard's figures, per unit, of the open cases the caller may read: (unit, open, overdue, due soon)
    of her own cases (none for a client), then of all of them."""
    roots = principal.scopes_for(Action.case_read)
    repository = CaseRepository(session)
    soon = now + DUE_SOON
    mine = await repository.counts_by_unit(roots, soon, uuid.UUID(principal.id)) if principal.kind == "user" else []
    return mine, await repository.counts_by_unit(roots, soon)


async def triage_cases(
    session: AsyncSession, principal: Principal, *, open_only: bool, offset: int, limit: int
) -> tuple[list[tuple[IntakeTriage, Case]], int]:
    """One page of the triage cases (部门通报核实) the caller may read, newest first, each with the county's copy of
    its department notification, and the total count."""
    return await CaseRepository(session).triage_page(
        principal.scopes_for(Action.case_read), open_only=open_only, offset=offset, limit=limit
    )
